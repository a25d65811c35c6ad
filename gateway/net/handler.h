// The seam between the connection machinery (net/) and the request pipeline (proxy/, admin/):
// a connection parses and frames a request, then asks a RequestHandler what to do with it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/forward.h"
#include "http/framing.h"
#include "http/request_head.h"

namespace portcullis::net {

struct RequestView {
  const http::RequestHead& head;
  const http::RequestInfo& info;
  std::string_view path;        // normalized; what matching saw and what is forwarded
  std::string_view client_ip;
  std::string_view request_id;
  bool tls = false;
};

using HeaderField = http::HeaderField;

// What to do with one request. A connection owns one and reuses its buffers.
struct Decision {
  enum class Kind { Forward, Respond };
  Kind kind = Kind::Respond;
  std::string_view route;        // metric/log label; must outlive the request (config-owned)
  // Holds what `route` (and a pending request's context) point into, e.g. the policy set the
  // request was decided with, for as long as the request lives: a reload cannot free it.
  std::shared_ptr<const void> snapshot;
  std::string_view outcome = "deny";  // allow | deny | invalid | error | admin
  std::string subject;           // for the access log

  // Forward
  size_t upstream = 0;                             // index into the worker's upstream pools
  std::vector<HeaderField> inject;                 // added after the client's headers
  const std::vector<std::string>* strip_loose = nullptr;  // client headers removed (case-insensitive, '_' == '-')
  bool strip_authorization = false;

  // Respond
  int status = 0;
  std::string_view error_code;   // JSON error body {"error":..., "request_id":...} when body is empty
  std::vector<HeaderField> headers;
  std::string content_type;
  std::string body;

  void reset() {
    kind = Kind::Respond;
    route = {};
    snapshot.reset();
    outcome = "deny";
    subject.clear();
    upstream = 0;
    inject.clear();
    strip_loose = nullptr;
    strip_authorization = false;
    status = 0;
    error_code = {};
    headers.clear();
    content_type.clear();
    body.clear();
  }
};

class DecisionReceiver {
 public:
  virtual ~DecisionReceiver() = default;
  virtual void onDecision() = 0;  // the decision is in the Decision object handed to decide()
};

class Cancelable {
 public:
  virtual ~Cancelable() = default;
  virtual void cancel() = 0;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Fills `decision` and returns nullptr (synchronous), or returns a Cancelable and calls
  // receiver.onDecision() later on the same loop thread after filling `decision`. The
  // connection cancels the operation if it dies first.
  virtual Cancelable* decide(const RequestView& request, Decision& decision, DecisionReceiver& receiver) = 0;
  // Whether this handler is ready to serve (readyz): keys loaded, policies loaded.
  virtual bool ready() const { return true; }
};

}  // namespace portcullis::net
