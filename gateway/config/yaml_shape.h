// YAML shape checking shared by the config and policy loaders (internal to config/): values
// with their line and key path, an error sink, and a map view that refuses non-scalar keys,
// duplicate keys and keys it does not know.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"

namespace portcullis::config::yaml_shape {

inline std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

inline int line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

// Quote a user value for a message: bounded so a huge scalar cannot flood the output, control
// bytes escaped so they cannot play tricks on the operator's terminal.
inline std::string quote(std::string_view value) {
  constexpr size_t kMax = 80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (char c : value.substr(0, kMax)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (value.size() > kMax) out += "...";
  out += "'";
  return out;
}

struct Sink {
  std::string file;
  std::vector<ConfigError> errors;
  void add(int line, std::string key, std::string message) {
    errors.push_back(ConfigError{file, line, std::move(key), std::move(message)});
  }
};

// A value with where it came from: the YAML node, its line (the key's line when the value is
// null) and its key path.
struct Field {
  YAML::Node node;
  int line = 0;
  std::string path;
  int key_line = 0;  // line of the key naming this value; 0 for list items and the root
};

// A mapping node checked for shape: scalar keys, no duplicates, only allowed keys.
class MapView {
 public:
  // `allowed` empty: any key (maps whose keys are names, like upstreams or claims).
  MapView(Sink& sink, const Field& at, std::initializer_list<std::string_view> allowed = {})
      : path_(at.path), line_(at.key_line ? at.key_line : at.line) {
    if (!at.node.IsMap()) {
      sink.add(at.line, at.path,
               (at.node.IsNull() ? "has no value; expected a map" : "must be a map") +
                   (allowed.size() ? " with keys " + join(allowed) : ""));
      return;
    }
    ok_ = true;
    for (const auto& kv : at.node) {
      // Copies: yaml-cpp's iterator proxy trips GCC 12's -Wdangling-pointer through it->first.
      const YAML::Node key = kv.first;
      const YAML::Node value = kv.second;
      int key_line = line_of(key);
      if (!key.IsScalar()) {
        sink.add(key_line, path_, "map keys must be plain strings");
        continue;
      }
      const std::string& name = key.Scalar();
      std::string child = child_path(name);
      if (const Field* first = find(name)) {
        sink.add(key_line, child, "duplicate key (first defined on line " + std::to_string(first->key_line) + ")");
        continue;
      }
      if (allowed.size() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        if (name == "<<") {
          sink.add(key_line, child, "YAML merge keys ('<<') are not supported; write the keys out");
        } else {
          sink.add(key_line, child, "unknown key " + quote(name) + " (allowed: " + join(allowed) + ")");
        }
        continue;
      }
      int value_line = value.IsNull() ? key_line : line_of(value);
      keys_.push_back(name);
      fields_.push_back(Field{value, value_line ? value_line : key_line, child, key_line});
    }
  }

  bool ok() const { return ok_; }
  // Where errors about the map as a whole (missing keys) go: the line of its key.
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const Field* find(std::string_view key) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] == key) return &fields_[i];
    }
    return nullptr;
  }
  size_t size() const { return keys_.size(); }
  const std::string& key(size_t i) const { return keys_[i]; }
  const Field& field(size_t i) const { return fields_[i]; }

 private:
  std::string path_;
  int line_ = 0;
  bool ok_ = false;
  std::vector<std::string> keys_;
  std::vector<Field> fields_;
};


// The value of a key the map must have; reports "is required" (with a hint) when missing.
inline const Field* require(Sink& sink, const MapView& map, std::string_view key, std::string_view hint = {}) {
  const Field* f = map.find(key);
  if (!f) {
    std::string msg = "is required";
    if (!hint.empty()) msg += " (" + std::string(hint) + ")";
    sink.add(map.line(), map.child_path(key), msg);
  }
  return f;
}

}  // namespace portcullis::config::yaml_shape
