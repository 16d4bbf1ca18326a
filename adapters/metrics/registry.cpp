#include "adapters/metrics/registry.hpp"

#include <cmath>
#include <cstdio>

namespace router::adapters::metrics {
namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i != 0) out += ',';
    out += labels[i].first + "=\"" + escape(labels[i].second) + "\"";
  }
  return out + "}";
}

void Histogram::observe(double seconds) {
  for (std::size_t i = 0; i < default_buckets.size(); ++i) {
    if (seconds <= default_buckets[i]) buckets_[i].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e6), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  // labels is "" or "{a="b"}": bucket lines add le to it.
  const std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2) + ",";
  for (std::size_t i = 0; i < default_buckets.size(); ++i) {
    out += name + "_bucket{" + inner + "le=\"" + number(default_buckets[i]) + "\"} " +
           std::to_string(buckets_[i].load(std::memory_order_relaxed)) + "\n";
  }
  const auto count = count_.load(std::memory_order_relaxed);
  out += name + "_bucket{" + inner + "le=\"+Inf\"} " + std::to_string(count) + "\n";
  out += name + "_sum" + labels + " " + number(static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6) + "\n";
  out += name + "_count" + labels + " " + std::to_string(count) + "\n";
}

void GaugeWriter::set(const std::string& name, const Labels& labels, double value) { samples[name].push_back({labels, value}); }

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& f = families_[name];
  f.help = help;
  f.type = "counter";
  auto& slot = f.counters[render_labels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& f = families_[name];
  f.help = help;
  f.type = "histogram";
  auto& slot = f.histograms[render_labels(labels)];
  if (!slot) slot = std::make_unique<Histogram>();
  return *slot;
}

void Registry::gauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  Family& f = families_[name];
  f.help = help;
  f.type = "gauge";
}

void Registry::add_collector(std::function<void(GaugeWriter&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render(const GaugeWriter* extra) const {
  GaugeWriter gauges;
  std::vector<std::function<void(GaugeWriter&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect(gauges);
  if (extra != nullptr) {
    for (const auto& [name, samples] : extra->samples) {
      auto& into = gauges.samples[name];
      into.insert(into.end(), samples.begin(), samples.end());
    }
  }
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n# TYPE " + name + " " + family.type + "\n";
    if (family.type == "counter") {
      for (const auto& [labels, counter] : family.counters) out += name + labels + " " + std::to_string(counter->value()) + "\n";
    } else if (family.type == "histogram") {
      for (const auto& [labels, histogram] : family.histograms) histogram->render(out, name, labels);
    } else if (auto it = gauges.samples.find(name); it != gauges.samples.end()) {
      for (const auto& sample : it->second) out += name + render_labels(sample.labels) + " " + number(sample.value) + "\n";
    }
  }
  return out;
}

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace router::adapters::metrics
