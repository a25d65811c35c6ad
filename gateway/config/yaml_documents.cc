#include "config/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>

namespace portcullis::config {
namespace {

// Records where each document starts; builds nothing.
class DocumentStarts : public YAML::EventHandler {
 public:
  YAML::Mark last;
  void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

std::vector<YAML::Node> load_all_documents(const std::string& text) {
  // A first pass with a handler that builds nothing: a document that starts where the
  // previous one did means the parser is stuck, and LoadAll would never return.
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  bool first = true;
  YAML::Mark previous;
  while (parser.HandleNextDocument(starts)) {
    if (!first && starts.last.pos == previous.pos) {
      throw YAML::ParserException(starts.last, "unexpected character here (stray ',' or flow indicator?)");
    }
    first = false;
    previous = starts.last;
  }
  return YAML::LoadAll(text);
}

}  // namespace portcullis::config
