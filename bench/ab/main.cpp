// Two copies of the core in one process, each with its own steady state, timed in alternating
// blocks of 20,000 cycles: whatever the VM's phase, both see it. Prints the medians and the median of
// the per-pair ratios (above 1: "head" is faster). `swap` builds head's state first.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" void* base_make();
extern "C" double base_block(void*, int);
extern "C" void* head_make();
extern "C" double head_block(void*, int);

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? std::atoi(argv[1]) : 40;
  const bool swap = argc > 2 && std::strcmp(argv[2], "swap") == 0;
  void* base = nullptr;
  void* head = nullptr;
  if (swap) {
    head = head_make();
    base = base_make();
  } else {
    base = base_make();
    head = head_make();
  }
  constexpr int cycles = 20'000;
  std::vector<double> base_us, head_us, ratio;
  for (int i = 0; i < pairs; ++i) {
    double b = 0, h = 0;
    if (i % 2 == 0) {
      b = base_block(base, cycles);
      h = head_block(head, cycles);
    } else {
      h = head_block(head, cycles);
      b = base_block(base, cycles);
    }
    base_us.push_back(b);
    head_us.push_back(h);
    ratio.push_back(b / h);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("base %.3f us/cycle, head %.3f us/cycle; median ratio base/head %.3f%s\n", median(base_us),
              median(head_us), median(ratio), swap ? " (head built first)" : "");
  return 0;
}
