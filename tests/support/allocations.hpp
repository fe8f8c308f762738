#pragma once

#include <cstddef>

namespace kesm::test {

/// Allocations (operator new) made so far by this test binary; counted by
/// tests/support/allocations.cpp, linked into the binaries whose tests show
/// that a hot path allocates nothing per record.
size_t allocation_count();

/// False under ThreadSanitizer, which owns operator new itself.
bool counting_allocations();

} // namespace kesm::test
