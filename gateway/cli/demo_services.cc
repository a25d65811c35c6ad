#include "cli/demo_services.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <string_view>
#include <utility>
#include <vector>

#include "cli/demo_plan.h"
#include "core/ascii.h"

namespace portcullis::cli::demo {
namespace {


void local_answer(net::Decision& d, std::string_view route) {
  d.kind = net::Decision::Kind::Respond;
  d.route = route;
  d.outcome = "allow";
}

}  // namespace

net::Cancelable* DevIssuerHandler::decide(const net::RequestView& request, net::Decision& d, net::DecisionReceiver&) {
  local_answer(d, "dev-issuer");
  if (request.head.method != "GET" && request.head.method != "HEAD") {
    d.status = 405;
    d.error_code = "method_not_allowed";
    d.headers.push_back({"Allow", "GET, HEAD"});
  } else if (request.path == kJwksPath) {
    d.status = 200;
    d.content_type = "application/json";
    d.body = jwks_json_;
  } else {
    d.status = 404;
    d.error_code = "not_found";
  }
  return nullptr;
}

std::string echo_json(const net::RequestView& request) {
  std::vector<std::pair<std::string_view, std::string>> headers;
  for (size_t i = 0; i < request.head.header_count; ++i) {
    const http::Header& h = request.head.headers[i];
    auto it = headers.begin();
    while (it != headers.end() && !ascii_iequals(it->first, h.name)) ++it;
    if (it == headers.end()) {
      headers.emplace_back(h.name, std::string(h.value));
    } else {
      it->second.append(", ").append(h.value);
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  auto string = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  string("method");
  string(request.head.method);
  string("path");
  string(request.head.target);
  string("headers");
  w.StartObject();
  for (const auto& [name, value] : headers) {
    string(name);
    string(value);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

net::Cancelable* EchoHandler::decide(const net::RequestView& request, net::Decision& d, net::DecisionReceiver&) {
  local_answer(d, "echo");
  d.status = 200;
  d.content_type = "application/json";
  d.body = echo_json(request);
  return nullptr;
}

Result<std::unique_ptr<LocalService>> LocalService::start(std::unique_ptr<net::RequestHandler> handler) {
  std::unique_ptr<LocalService> s(new LocalService());
  s->settings_.access_log = false;  // the gateway's access log is the one worth reading
  s->settings_.max_connections = 256;
  s->settings_.drain_timeout = net::Millis(0);
  s->worker_ = std::make_unique<net::Worker>(-2, s->settings_, s->shared_, s->metrics_);
  Result<uint16_t> port = s->worker_->listen("127.0.0.1", 0);
  if (!port) return port.error();
  s->port_ = *port;
  s->worker_->set_handler(std::move(handler));
  s->worker_->start();
  return s;
}

LocalService::~LocalService() {
  if (worker_) worker_->stop();
  worker_.reset();  // joins the loop thread, then closes what is left
}

}  // namespace portcullis::cli::demo
