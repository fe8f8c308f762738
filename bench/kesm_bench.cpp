#include "bench/bench_main.hpp"

int main(int argc, char** argv) {
  return kesm::bench::main(argc, argv);
}
