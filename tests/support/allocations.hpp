#pragma once

#include <cstddef>

namespace kesm::test {

/// Allocations (operator new) made so far by this test binary; counted by
/// tests/support/allocations.cpp, linked into the binaries whose tests show
/// that a hot path allocates nothing per record.
size_t allocation_count();

/// Allocations made so far by the calling thread only: for code measured
/// while other threads of the binary (an embedded broker) allocate too.
size_t thread_allocation_count();

/// False under ThreadSanitizer, which owns operator new itself.
bool counting_allocations();

} // namespace kesm::test
