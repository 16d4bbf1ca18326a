// Prometheus metrics (text exposition format 0.0.4): counters and histograms updated lock-free on
// hot paths, gauges computed when scraped. One process-wide registry; components look their series
// up once and keep the reference.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace router::adapters::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  static constexpr std::array<double, 14> default_buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                             0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
  void observe(double seconds);
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, default_buckets.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

// Gauges are written at scrape time by collectors.
class GaugeWriter {
 public:
  void set(const std::string& name, const Labels& labels, double value);
  struct Sample {
    Labels labels;
    double value;
  };
  std::map<std::string, std::vector<Sample>> samples;
};

class Registry {
 public:
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels = {});
  void gauge(const std::string& name, const std::string& help);  // declares a gauge family (HELP/TYPE)
  // Collectors run on the scraping thread; `extra` gauges (e.g. from the core) can be passed in.
  void add_collector(std::function<void(GaugeWriter&)> collector);
  std::string render(const GaugeWriter* extra = nullptr) const;

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<Counter>> counters;       // by rendered label set
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(GaugeWriter&)>> collectors_;
};

Registry& registry();
std::string render_labels(const Labels& labels);

}  // namespace router::adapters::metrics
