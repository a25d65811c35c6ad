#include "admin/admin_handler.h"

namespace portcullis::admin {

AdminHandler::AdminHandler(metrics::Metrics& metrics, std::function<bool()> ready, const std::atomic<bool>& draining)
    : metrics_(metrics), ready_(std::move(ready)), draining_(draining) {}

net::Cancelable* AdminHandler::decide(const net::RequestView& request, net::Decision& d, net::DecisionReceiver&) {
  d.kind = net::Decision::Kind::Respond;
  d.route = "admin";
  d.outcome = "admin";
  if (request.head.method != "GET" && request.head.method != "HEAD") {
    d.status = 405;
    d.error_code = "method_not_allowed";
    d.headers.push_back({"Allow", "GET, HEAD"});
    return nullptr;
  }
  if (request.path == "/healthz") {
    d.status = 200;
    d.content_type = "text/plain";
    d.body = "ok\n";
  } else if (request.path == "/readyz") {
    if (draining_.load()) {
      d.status = 503;
      d.content_type = "text/plain";
      d.body = "draining\n";
    } else if (ready_ && !ready_()) {
      d.status = 503;
      d.content_type = "text/plain";
      d.body = "not ready\n";
    } else {
      d.status = 200;
      d.content_type = "text/plain";
      d.body = "ready\n";
    }
  } else if (request.path == "/metrics") {
    d.status = 200;
    d.content_type = "text/plain; version=0.0.4; charset=utf-8";
    d.body = metrics_.serialize();
  } else {
    d.status = 404;
    d.error_code = "no_route";
  }
  return nullptr;
}

}  // namespace portcullis::admin
