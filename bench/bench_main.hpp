#pragma once

namespace kesm::bench {

/// `kesm-bench` / `kesm bench`: see bench/README.md.
int main(int argc, char** argv);

} // namespace kesm::bench
