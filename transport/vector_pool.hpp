#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace kesm::transport {

/// Arrays kept for reuse from one chunk or batch to the next, on whatever
/// threads take and give them: an array's pages are faulted in once, not
/// for every chunk (a fresh array of 1,000 record views is 96 KB, 24 pages,
/// and a page fault costs 1.3-6 us on the benchmark machine; docs/
/// benchmarks.md, "Records copied out"). At most `max_idle_bytes` of
/// capacity waits idle; arrays beyond it, or larger than `max_bytes`, are
/// freed. One lock per take and per give. Thread-safe.
template <class T>
class vector_pool {
public:
  vector_pool(size_t max_idle_bytes, size_t max_bytes)
    : max_idle_bytes_(max_idle_bytes), max_bytes_(max_bytes) {
    // Room for every array that can wait: giving back never allocates.
    idle_.reserve(max_idle_bytes / (64 * sizeof(T)) + 1);
  }

  vector_pool(const vector_pool&) = delete;
  vector_pool& operator=(const vector_pool&) = delete;

  /// An empty array with room for at least `n` elements.
  std::vector<T> take(size_t n) {
    std::vector<T> v;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!idle_.empty()) {
        v = std::move(idle_.back());
        idle_.pop_back();
        idle_bytes_ -= v.capacity() * sizeof(T);
      }
    }
    v.reserve(n);
    return v;
  }

  /// Empties `v` (destroying its elements here) and keeps its capacity
  /// for a later `take`, or frees it.
  void give(std::vector<T>& v) noexcept {
    v.clear();
    size_t bytes = v.capacity() * sizeof(T);
    // Arrays of under 64 elements are not worth a lock.
    if (bytes < 64 * sizeof(T) || bytes > max_bytes_)
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    if (idle_bytes_ + bytes > max_idle_bytes_ || idle_.size() == idle_.capacity())
      return;
    idle_bytes_ += bytes;
    idle_.push_back(std::move(v));
  }

  size_t idle_bytes() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return idle_bytes_;
  }

private:
  mutable std::mutex mtx_;
  std::vector<std::vector<T>> idle_;
  size_t idle_bytes_ = 0;
  size_t max_idle_bytes_;
  size_t max_bytes_;
};

} // namespace kesm::transport
