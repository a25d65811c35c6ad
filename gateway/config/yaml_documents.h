// Every document of a YAML stream, as YAML::LoadAll gives them, but guaranteed to end.
// yaml-cpp 0.7 (Debian 12) never leaves LoadAll on some malformed streams -- a lone ','
// is enough (jbeder/yaml-cpp#1040, fixed upstream by #1319): the parser keeps reporting an
// empty document at the same place and LoadAll collects them until memory runs out. Found
// by tests/fuzz (gateway_config, policy); the reproducers are in tests/fuzz/regressions/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace portcullis::config {

// Throws YAML::ParserException (as LoadAll does for syntax errors) when the parser stops
// making progress, before any document is built; otherwise returns YAML::LoadAll(text).
std::vector<YAML::Node> load_all_documents(const std::string& text);

}  // namespace portcullis::config
