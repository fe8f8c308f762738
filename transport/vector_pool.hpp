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
/// benchmarks.md, "Records copied out").
///
/// Arrays wait by size class, powers of two from 64 elements: `take(n)`
/// gets one of the class `n` rounds up to, or of one of the two classes
/// above it, and only otherwise a new array of the class's size. Without
/// classes, the small arrays of many-partition chunks were taken for
/// 1,000-record batches and grown anew each time, and the batches' large
/// ones went to small chunks (docs/benchmarks.md, "Arrays reused by
/// size"). At most `max_idle_bytes` of capacity waits idle; arrays
/// beyond it, or larger than `max_bytes`, are freed. One lock per take
/// and per give. Thread-safe.
template <class T>
class vector_pool {
public:
  /// The smallest class, in elements; smaller arrays are not worth a lock.
  static constexpr size_t min_elements = 64;

  vector_pool(size_t max_idle_bytes, size_t max_bytes)
    : max_idle_bytes_(max_idle_bytes), max_bytes_(max_bytes) {
    for (size_t size = min_elements; size * sizeof(T) <= max_bytes;
         size *= 2) {
      // Room for every array that can wait: giving back never allocates.
      idle_.emplace_back();
      idle_.back().reserve(max_idle_bytes / (size * sizeof(T)) + 1);
    }
  }

  vector_pool(const vector_pool&) = delete;
  vector_pool& operator=(const vector_pool&) = delete;

  /// An empty array with room for at least `n` elements.
  std::vector<T> take(size_t n) {
    size_t k = 0;
    while (k < idle_.size() && class_size(k) < n)
      ++k;
    std::vector<T> v;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      for (size_t c = k; c < idle_.size() && c <= k + 2; ++c) {
        if (idle_[c].empty())
          continue;
        v = std::move(idle_[c].back());
        idle_[c].pop_back();
        idle_bytes_ -= v.capacity() * sizeof(T);
        return v;
      }
    }
    v.reserve(k < idle_.size() ? class_size(k) : n);
    return v;
  }

  /// Empties `v` (destroying its elements here) and keeps its capacity
  /// for a later `take`, or frees it.
  void give(std::vector<T>& v) noexcept {
    v.clear();
    size_t capacity = v.capacity();
    size_t bytes = capacity * sizeof(T);
    if (capacity < min_elements || bytes > max_bytes_ || idle_.empty())
      return;
    // The largest class the array holds whole.
    size_t c = 0;
    while (c + 1 < idle_.size() && class_size(c + 1) <= capacity)
      ++c;
    std::lock_guard<std::mutex> guard{mtx_};
    if (idle_bytes_ + bytes > max_idle_bytes_
        || idle_[c].size() == idle_[c].capacity())
      return;
    idle_bytes_ += bytes;
    idle_[c].push_back(std::move(v));
  }

  size_t idle_bytes() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return idle_bytes_;
  }

private:
  static constexpr size_t class_size(size_t c) noexcept {
    return min_elements << c;
  }

  mutable std::mutex mtx_;
  std::vector<std::vector<std::vector<T>>> idle_; // by class
  size_t idle_bytes_ = 0;
  size_t max_idle_bytes_;
  size_t max_bytes_;
};

} // namespace kesm::transport
