// Counts allocations of the test binary it is linked into (see
// allocations.hpp). Not under ThreadSanitizer, which owns operator new.
#include "support/allocations.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> allocations{0};
thread_local size_t thread_allocations = 0;
}

namespace kesm::test {

size_t allocation_count() {
  return allocations.load();
}

size_t thread_allocation_count() {
  return thread_allocations;
}

} // namespace kesm::test

#if defined(__SANITIZE_THREAD__)
bool kesm::test::counting_allocations() {
  return false;
}
#else
bool kesm::test::counting_allocations() {
  return true;
}
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  ++allocations;
  ++thread_allocations;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
#endif
