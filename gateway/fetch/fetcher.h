// Outbound HTTP client for JWKS, OIDC discovery and RFC 7662 introspection.
//
// libcurl's multi interface driven by a libevent event_base: nothing here blocks the loop
// and nothing calls curl_easy_perform. One Fetcher per worker loop; not thread-safe, use it
// only from the thread that runs its event_base, and destroy it before that event_base.
//
// Hardening that callers can rely on: only http/https, redirects never followed, TLS peer
// and host verification always on, environment proxies ignored, a total time bound and a
// response-size bound on every request. Non-2xx answers are not errors at this layer.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct event_base;

namespace portcullis::fetch {

struct FetchRequest {
  std::string url;
  std::string method = "GET";  // GET or POST, exactly
  // POST body; sent as application/x-www-form-urlencoded unless a Content-Type header is given.
  std::string body;
  // Extra request headers. Names must be tokens; names and values must not hold CR, LF or NUL.
  // An empty value sends the header with no value.
  std::vector<std::pair<std::string, std::string>> headers;
  // HTTP Basic (client_secret_basic) when basic_user is non-empty. The caller form-urlencodes
  // both values first (RFC 6749 §2.3.1), so a ':' in the user is rejected.
  std::string basic_user;
  std::string basic_password;
  std::chrono::milliseconds timeout{5000};  // total time, connect included; must be positive
  size_t max_bytes = 1 << 20;               // response body bound; exceeded -> TooLarge
  // Optional CA bundle file (private IdP, tests): the only CAs trusted for this request
  // (curl's default bundle and its default CA directory are both left out).
  std::string ca_file;
};

enum class FetchError {
  None,           // a complete HTTP response arrived (any status)
  Timeout,        // the total time bound expired
  TooLarge,       // the body exceeded max_bytes (declared or actually received)
  ConnectFailed,  // name resolution or TCP connect failed
  TlsFailed,      // handshake or certificate verification failed
  BadUrl,         // not an absolute http(s) URL with a host
  Canceled,       // reserved for callers; a canceled fetch never calls back
  Other,          // invalid request fields, malformed reply, I/O error; see detail
};

std::string_view to_string(FetchError e);

struct FetchResult {
  FetchError error = FetchError::None;
  int status = 0;            // HTTP status when error == None, else 0
  std::string body;          // response body when error == None, else empty
  std::string content_type;  // Content-Type header as received, may be empty
  std::string detail;        // human-readable reason when error != None
};

// Called exactly once, on the loop thread, never synchronously from fetch(), never after
// cancel() and never after the Fetcher is destroyed.
using FetchCallback = std::function<void(FetchResult&&)>;

namespace detail {
class Engine;
struct Transfer;
}  // namespace detail

// Cancelable view of one fetch. Dropping the handle does NOT cancel the fetch.
class FetchHandle {
 public:
  FetchHandle() = default;
  FetchHandle(const FetchHandle&) = delete;
  FetchHandle& operator=(const FetchHandle&) = delete;

  // Stops the fetch; its callback will not run. Idempotent; a no-op after completion or
  // after the Fetcher is gone.
  void cancel();
  // True until the callback has been invoked, or the fetch was canceled or torn down.
  bool pending() const { return transfer_ != nullptr; }

 private:
  friend class detail::Engine;
  detail::Transfer* transfer_ = nullptr;  // cleared by the engine when the fetch ends
};

class Fetcher {
 public:
  // Returns nullptr if libcurl or libevent cannot be set up.
  static std::unique_ptr<Fetcher> create(struct event_base* base);
  // Cancels everything in flight without calling callbacks. Safe to call from inside a
  // fetch callback.
  ~Fetcher();

  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Starts a fetch. Invalid requests (bad URL, method, header bytes, timeout) are reported
  // through the callback like any other failure.
  std::shared_ptr<FetchHandle> fetch(FetchRequest request, FetchCallback callback);
  // Fetches started and not yet delivered or canceled.
  size_t in_flight() const;

 private:
  explicit Fetcher(std::unique_ptr<detail::Engine> engine);
  std::unique_ptr<detail::Engine> engine_;
};

}  // namespace portcullis::fetch
