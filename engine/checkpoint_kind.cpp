#include "engine/checkpoint_kind.h"

#include <climits>
#include <stdexcept>

#include "engine/text.h"

void check_checkpoint_kind(const CheckpointMeta& meta, const std::string& kind, const std::string& what,
                           const std::string& path, const std::string& hint) {
  const auto it = meta.find("model");
  if (it != meta.end() && it->second == kind) return;
  const std::string tail = hint.empty() ? "" : " (" + hint + ")";
  if (it == meta.end()) throw std::runtime_error(path + ": has no 'model' metadata, so it is not " + what + tail);
  throw std::runtime_error(path + ": is a '" + it->second + "' checkpoint, not " + what + tail);
}

int checkpoint_int(const CheckpointMeta& meta, const std::string& key, const std::string& path) {
  const auto it = meta.find(key);
  if (it == meta.end()) throw std::runtime_error(path + ": metadata " + key + " is missing");
  int64_t v = 0;
  if (!parse_integer(it->second, &v) || v < INT_MIN || v > INT_MAX)
    throw std::runtime_error(path + ": metadata " + key + " is not an integer ('" + it->second + "')");
  return static_cast<int>(v);
}
