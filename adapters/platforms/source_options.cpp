#include "adapters/platforms/source_options.hpp"

namespace router::adapters::platforms {

const char* format_name(Format format) noexcept {
  switch (format) {
    case Format::canonical: return "canonical";
    case Format::widget: return "widget";
    case Format::conduit: return "conduit";
    case Format::chatbot_thread: return "chatbot-thread";
    case Format::invent: return "invent";
  }
  return "canonical";
}

std::optional<Format> parse_format(std::string_view text) noexcept {
  if (text == "canonical") return Format::canonical;
  if (text == "widget") return Format::widget;
  if (text == "conduit") return Format::conduit;
  if (text == "chatbot-thread") return Format::chatbot_thread;
  if (text == "invent") return Format::invent;
  return std::nullopt;
}

}  // namespace router::adapters::platforms
