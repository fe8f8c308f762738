#pragma once

// Happens-before edges for ThreadSanitizer across CAF mailboxes.
//
// Debian's CAF is not built with TSan, so TSan cannot see that a message
// (and the data it points to) passes from the sending worker to the
// receiving one. Where kesm hands shared data (record chunks, batches,
// invocation results) from one actor or thread to another, the sender calls
// `handoff_send(p)` right before sending and the receiver
// `handoff_receive(p)` first thing; under TSan these are release/acquire
// on `p`, otherwise nothing.

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace kesm::actors {

inline void handoff_send([[maybe_unused]] const void* p) noexcept {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(const_cast<void*>(p));
#endif
}

inline void handoff_receive([[maybe_unused]] const void* p) noexcept {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(const_cast<void*>(p));
#endif
}

} // namespace kesm::actors
