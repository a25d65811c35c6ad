// libcurl multi on a libevent loop. Flow:
//   fetch()  -> validate, configure an easy handle, curl_multi_add_handle (curl then asks for
//               a timer through on_timer; nothing completes synchronously)
//   sockets  -> curl tells us which fds to watch (on_socket); libevent tells curl when they
//               are ready (on_socket_event -> curl_multi_socket_action)
//   finished -> after curl_multi_socket_action returns we read curl's messages, detach the
//               easy handle and queue the result; a deferred event delivers callbacks on a
//               later loop pass, outside every curl frame, so callbacks may fetch, cancel or
//               destroy the Fetcher.
#include "fetch/fetcher.h"

#include <curl/curl.h>
#include <event2/event.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>

namespace portcullis::fetch {

std::string_view to_string(FetchError e) {
  switch (e) {
    case FetchError::None:
      return "none";
    case FetchError::Timeout:
      return "timeout";
    case FetchError::TooLarge:
      return "too_large";
    case FetchError::ConnectFailed:
      return "connect_failed";
    case FetchError::TlsFailed:
      return "tls_failed";
    case FetchError::BadUrl:
      return "bad_url";
    case FetchError::Canceled:
      return "canceled";
    case FetchError::Other:
      return "other";
  }
  return "unknown";
}

namespace detail {

// Owners used as members of Transfer and Engine (so not in the anonymous namespace).
struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* h) const noexcept { curl_multi_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct CurlStrDeleter {
  void operator()(char* s) const noexcept { curl_free(s); }
};
struct EventDeleter {
  void operator()(event* ev) const noexcept { event_free(ev); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;
using CurlStr = std::unique_ptr<char, CurlStrDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;

namespace {

constexpr char kUserAgent[] = "portcullis/0.1";
constexpr char kProtocols[] = "http,https";
// Response header bytes (all header blocks of the transfer); JWKS and introspection
// answers need a few hundred.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

bool global_init() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ok;
}

// Bytes that would split or truncate a header line or a C string handed to curl.
bool has_line_break_or_nul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// RFC 9110 token (header field names).
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

FetchResult failure(FetchError error, std::string detail) {
  FetchResult r;
  r.error = error;
  r.detail = std::move(detail);
  return r;
}

// An absolute http(s) URL with a host, as curl itself will parse it.
bool valid_url(const std::string& url, std::string& why) {
  if (url.empty() || url.find('\0') != std::string::npos) {
    why = "empty URL or NUL byte in URL";
    return false;
  }
  UrlPtr u(curl_url());
  if (!u) {
    why = "out of memory";
    return false;
  }
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    why = std::string("malformed URL: ") + curl_url_strerror(rc);
    return false;
  }
  char* raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) {
    why = "URL has no scheme";
    return false;
  }
  CurlStr scheme(raw);
  const std::string_view s(scheme.get());
  if (s != "http" && s != "https") {
    why = "scheme not allowed: " + std::string(s);
    return false;
  }
  raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK) {
    why = "URL has no host";
    return false;
  }
  CurlStr host(raw);
  if (host.get()[0] == '\0') {
    why = "URL has no host";
    return false;
  }
  return true;
}

// Fields other than the URL; empty string when the request is acceptable.
std::string invalid_field(const FetchRequest& r) {
  if (r.method != "GET" && r.method != "POST") return "method must be GET or POST";
  if (r.timeout.count() <= 0) return "timeout must be positive";
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name)) return "invalid header name";
    if (has_line_break_or_nul(value)) return "invalid header value";
  }
  if (has_line_break_or_nul(r.basic_user) || has_line_break_or_nul(r.basic_password)) {
    return "invalid Basic credentials";
  }
  if (r.basic_user.find(':') != std::string::npos) return "Basic user must not contain ':'";
  if (r.ca_file.find('\0') != std::string::npos) return "invalid ca_file";
  return {};
}

FetchError classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return FetchError::None;
    case CURLE_OPERATION_TIMEDOUT:
      return FetchError::Timeout;
    case CURLE_FILESIZE_EXCEEDED:
      return FetchError::TooLarge;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return FetchError::ConnectFailed;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return FetchError::TlsFailed;
    case CURLE_URL_MALFORMAT:
      return FetchError::BadUrl;
    default:
      return FetchError::Other;
  }
}

}  // namespace

struct Transfer {
  Engine* engine = nullptr;
  uint64_t id = 0;
  FetchRequest request;  // owns every buffer curl points into (URL, body, credentials)
  FetchCallback callback;
  std::shared_ptr<FetchHandle> handle;
  EasyPtr easy;
  SlistPtr header_list;
  bool in_multi = false;
  std::string body;
  size_t header_bytes = 0;
  bool headers_too_large = false;
  bool too_large = false;
  bool out_of_memory = false;
  FetchResult result;  // set once the transfer ended; delivered on a later loop pass
  char errbuf[CURL_ERROR_SIZE] = {};
};

class Engine {
 public:
  static std::unique_ptr<Engine> create(event_base* base);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  std::shared_ptr<FetchHandle> fetch(FetchRequest request, FetchCallback callback);
  void cancel(Transfer* t);
  size_t in_flight() const { return transfers_.size(); }

 private:
  explicit Engine(event_base* base) : base_(base) {}

  // C trampolines: curl and libevent call these; they never let an exception out.
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* engine, void*) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* engine) noexcept;
  static size_t on_write(char* data, size_t size, size_t nmemb, void* transfer) noexcept;
  static size_t on_header(char* data, size_t size, size_t nmemb, void* transfer) noexcept;
  static void on_socket_event(evutil_socket_t fd, short events, void* engine) noexcept;
  static void on_timer_event(evutil_socket_t, short, void* engine) noexcept;
  static void on_deliver_event(evutil_socket_t, short, void* engine) noexcept;

  bool start(Transfer& t, FetchResult& failed);
  void watch_socket(curl_socket_t fd, int what);
  void socket_action(curl_socket_t fd, int mask);
  void collect_finished();
  FetchResult outcome(Transfer& t, CURLcode code);
  void release_curl(Transfer& t);
  void queue(Transfer& t, FetchResult result);
  void deliver();
  static void detach(Transfer& t) {
    if (t.handle) t.handle->transfer_ = nullptr;
    t.handle.reset();
  }

  event_base* base_;
  MultiPtr multi_;
  EventPtr timer_;    // curl's single timeout
  EventPtr deliver_;  // deferred completion
  std::unordered_map<curl_socket_t, EventPtr> watches_;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::vector<uint64_t> ready_;  // ended transfers whose callbacks are due
  uint64_t next_id_ = 1;
  bool* destroyed_ = nullptr;  // set while deliver() runs user code
};

std::unique_ptr<Engine> Engine::create(event_base* base) {
  if (base == nullptr || !global_init()) return nullptr;
  std::unique_ptr<Engine> e(new Engine(base));
  e->multi_.reset(curl_multi_init());
  e->timer_.reset(evtimer_new(base, &Engine::on_timer_event, e.get()));
  e->deliver_.reset(event_new(base, -1, 0, &Engine::on_deliver_event, e.get()));
  if (!e->multi_ || !e->timer_ || !e->deliver_) return nullptr;
  CURLM* m = e->multi_.get();
  const bool ok =
      curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION,
                        static_cast<curl_socket_callback>(&Engine::on_socket)) == CURLM_OK &&
      curl_multi_setopt(m, CURLMOPT_SOCKETDATA, e.get()) == CURLM_OK &&
      curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION,
                        static_cast<curl_multi_timer_callback>(&Engine::on_timer)) == CURLM_OK &&
      curl_multi_setopt(m, CURLMOPT_TIMERDATA, e.get()) == CURLM_OK;
  if (!ok) return nullptr;
  return e;
}

Engine::~Engine() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  for (auto& [id, t] : transfers_) {
    detach(*t);
    release_curl(*t);
  }
  transfers_.clear();
  // curl may still call on_socket/on_timer while closing cached connections: keep the
  // watches and events alive until the multi handle is gone.
  multi_.reset();
  watches_.clear();
  timer_.reset();
  deliver_.reset();
}

std::shared_ptr<FetchHandle> Engine::fetch(FetchRequest request, FetchCallback callback) {
  auto owned = std::make_unique<Transfer>();
  Transfer& t = *owned;
  t.engine = this;
  t.id = next_id_++;
  t.request = std::move(request);
  t.callback = std::move(callback);
  t.handle = std::make_shared<FetchHandle>();
  t.handle->transfer_ = &t;
  std::shared_ptr<FetchHandle> handle = t.handle;
  transfers_.emplace(t.id, std::move(owned));

  FetchResult failed;
  if (!start(t, failed)) queue(t, std::move(failed));  // still reported on a later pass
  return handle;
}

void Engine::cancel(Transfer* t) {
  detach(*t);
  release_curl(*t);
  transfers_.erase(t->id);  // an id left in ready_ is skipped by deliver()
}

bool Engine::start(Transfer& t, FetchResult& failed) {
  const FetchRequest& r = t.request;
  std::string why;
  if (!valid_url(r.url, why)) {
    failed = failure(FetchError::BadUrl, std::move(why));
    return false;
  }
  if (why = invalid_field(r); !why.empty()) {
    failed = failure(FetchError::Other, "invalid request: " + why);
    return false;
  }

  t.easy.reset(curl_easy_init());
  if (!t.easy) {
    failed = failure(FetchError::Other, "curl_easy_init failed");
    return false;
  }
  // Headers: the caller's, plus "Expect:" so a large POST is not held for a 100-continue.
  auto add_header = [&t](const std::string& line) {
    // curl_slist_append returns the (unchanged) head, or nullptr leaving the list intact.
    curl_slist* head = curl_slist_append(t.header_list.get(), line.c_str());
    if (head == nullptr) return false;
    if (!t.header_list) t.header_list.reset(head);
    return true;
  };
  bool headers_ok = add_header("Expect:");
  for (const auto& [name, value] : r.headers) {
    // "Name:" would make curl drop the header; "Name;" sends it with an empty value.
    headers_ok = headers_ok && add_header(value.empty() ? name + ";" : name + ": " + value);
  }
  if (!headers_ok) {
    failed = failure(FetchError::Other, "out of memory building headers");
    return false;
  }

  CURL* e = t.easy.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, value);
  };
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_ERRORBUFFER, t.errbuf);
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, kProtocols);
  set(CURLOPT_REDIR_PROTOCOLS_STR, kProtocols);
  set(CURLOPT_FOLLOWLOCATION, 0L);  // SSRF: a redirect is returned, never followed
  set(CURLOPT_MAXREDIRS, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROXY, "");  // ignore http_proxy/https_proxy from the environment
  set(CURLOPT_USERAGENT, kUserAgent);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeout.count()));
  if (r.max_bytes > 0) {  // 0 means "no limit" to curl; the write callback still enforces it
    const auto cap = static_cast<size_t>(std::numeric_limits<curl_off_t>::max());
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(std::min(r.max_bytes, cap)));
  }
  set(CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(&Engine::on_write));
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_HEADERFUNCTION, static_cast<curl_write_callback>(&Engine::on_header));
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_HTTPHEADER, t.header_list.get());
  if (!r.ca_file.empty()) {
    set(CURLOPT_CAINFO, r.ca_file.c_str());
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));  // only these CAs, as for upstreams
  }
  if (r.method == "POST") {
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    set(CURLOPT_POSTFIELDS, r.body.data());
  } else {
    set(CURLOPT_HTTPGET, 1L);
  }
  if (!r.basic_user.empty()) {
    set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(CURLOPT_USERNAME, r.basic_user.c_str());
    set(CURLOPT_PASSWORD, r.basic_password.c_str());
  }
  if (rc != CURLE_OK) {
    failed = failure(FetchError::Other, std::string("curl option: ") + curl_easy_strerror(rc));
    return false;
  }
  if (CURLMcode mrc = curl_multi_add_handle(multi_.get(), e); mrc != CURLM_OK) {
    failed = failure(FetchError::Other,
                     std::string("curl_multi_add_handle: ") + curl_multi_strerror(mrc));
    return false;
  }
  t.in_multi = true;
  return true;
}

int Engine::on_socket(CURL*, curl_socket_t fd, int what, void* engine, void*) noexcept {
  try {
    static_cast<Engine*>(engine)->watch_socket(fd, what);
    return 0;
  } catch (...) {
    return -1;  // curl fails the transfers on this socket
  }
}

void Engine::watch_socket(curl_socket_t fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    watches_.erase(fd);  // libevent allows freeing an event from inside its own callback
    return;
  }
  const short kind = static_cast<short>(EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                                        ((what & CURL_POLL_OUT) ? EV_WRITE : 0));
  EventPtr& ev = watches_[fd];
  if (ev) {
    event_del(ev.get());
    event_assign(ev.get(), base_, fd, kind, &Engine::on_socket_event, this);
  } else {
    ev.reset(event_new(base_, fd, kind, &Engine::on_socket_event, this));
    if (!ev) throw std::bad_alloc();
  }
  event_add(ev.get(), nullptr);
}

int Engine::on_timer(CURLM*, long timeout_ms, void* engine) noexcept {
  auto* self = static_cast<Engine*>(engine);
  if (timeout_ms < 0) {
    evtimer_del(self->timer_.get());
    return 0;
  }
  // Zero means "call curl now": still go through the loop, never re-enter curl from here.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_ms % 1000) * 1000);
  return evtimer_add(self->timer_.get(), &tv) == 0 ? 0 : -1;
}

size_t Engine::on_write(char* data, size_t size, size_t nmemb, void* transfer) noexcept {
  auto* t = static_cast<Transfer*>(transfer);
  const size_t n = size * nmemb;                    // curl documents size as always 1
  if (n > t->request.max_bytes - t->body.size()) {  // body.size() <= max_bytes holds
    t->too_large = true;
    return 0;  // any short count aborts the transfer
  }
  try {
    t->body.append(data, n);
  } catch (...) {
    t->out_of_memory = true;
    return 0;
  }
  return n;
}

size_t Engine::on_header(char*, size_t size, size_t nmemb, void* transfer) noexcept {
  auto* t = static_cast<Transfer*>(transfer);
  const size_t n = size * nmemb;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  return n;
}

void Engine::on_socket_event(evutil_socket_t fd, short events, void* engine) noexcept {
  const int mask =
      ((events & EV_READ) ? CURL_CSELECT_IN : 0) | ((events & EV_WRITE) ? CURL_CSELECT_OUT : 0);
  try {
    static_cast<Engine*>(engine)->socket_action(fd, mask);
  } catch (...) {
    // Only allocation can throw here; the transfer then ends by its own timeout.
  }
}

void Engine::on_timer_event(evutil_socket_t, short, void* engine) noexcept {
  try {
    static_cast<Engine*>(engine)->socket_action(CURL_SOCKET_TIMEOUT, 0);
  } catch (...) {
  }
}

void Engine::on_deliver_event(evutil_socket_t, short, void* engine) noexcept {
  try {
    static_cast<Engine*>(engine)->deliver();
  } catch (...) {
    // deliver() already shields user callbacks; nothing else in it is expected to throw.
  }
}

void Engine::socket_action(curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(multi_.get(), fd, mask, &running);
  collect_finished();  // outside curl's frames: safe to remove handles now
}

void Engine::collect_finished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // msg is invalidated by curl_multi_remove_handle: copy what we need first.
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    auto* t = reinterpret_cast<Transfer*>(priv);
    if (t == nullptr) continue;
    FetchResult result = outcome(*t, code);
    release_curl(*t);
    queue(*t, std::move(result));
  }
}

FetchResult Engine::outcome(Transfer& t, CURLcode code) {
  if (t.too_large) {
    return failure(FetchError::TooLarge,
                   "response body exceeds " + std::to_string(t.request.max_bytes) + " bytes");
  }
  if (t.headers_too_large) {
    return failure(FetchError::TooLarge,
                   "response headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (t.out_of_memory) return failure(FetchError::Other, "out of memory reading response");
  FetchResult r;
  r.error = classify(code);
  char* content_type = nullptr;
  if (curl_easy_getinfo(t.easy.get(), CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
      content_type != nullptr) {
    r.content_type = content_type;
  }
  if (r.error != FetchError::None) {
    r.detail = t.errbuf[0] != '\0' ? t.errbuf : curl_easy_strerror(code);
    return r;  // no status, no partial body: a truncated document must never be parsed
  }
  long status = 0;
  curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  r.status = static_cast<int>(status);
  r.body = std::move(t.body);
  return r;
}

void Engine::release_curl(Transfer& t) {
  if (t.in_multi) curl_multi_remove_handle(multi_.get(), t.easy.get());
  t.in_multi = false;
  t.easy.reset();
  t.header_list.reset();
}

void Engine::queue(Transfer& t, FetchResult result) {
  t.result = std::move(result);
  ready_.push_back(t.id);
  event_active(deliver_.get(), 0, 0);
}

void Engine::deliver() {
  std::vector<uint64_t> batch;
  batch.swap(ready_);
  bool destroyed = false;
  bool* const outer = destroyed_;  // deliver() nests only if a callback runs the loop
  destroyed_ = &destroyed;
  for (uint64_t id : batch) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;  // canceled after it ended
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    detach(*t);
    FetchCallback callback = std::move(t->callback);
    FetchResult result = std::move(t->result);
    t.reset();
    try {
      if (callback) callback(std::move(result));
    } catch (...) {
      // A throwing callback must not unwind into libevent; the fetch itself is done.
    }
    if (destroyed) {  // the callback destroyed the Fetcher: touch no member
      if (outer != nullptr) *outer = true;
      return;
    }
  }
  destroyed_ = outer;
}

}  // namespace detail

void FetchHandle::cancel() {
  if (transfer_ != nullptr) transfer_->engine->cancel(transfer_);
}

std::unique_ptr<Fetcher> Fetcher::create(struct event_base* base) {
  auto engine = detail::Engine::create(base);
  if (!engine) return nullptr;
  return std::unique_ptr<Fetcher>(new Fetcher(std::move(engine)));
}

Fetcher::Fetcher(std::unique_ptr<detail::Engine> engine) : engine_(std::move(engine)) {}

Fetcher::~Fetcher() = default;

std::shared_ptr<FetchHandle> Fetcher::fetch(FetchRequest request, FetchCallback callback) {
  return engine_->fetch(std::move(request), std::move(callback));
}

size_t Fetcher::in_flight() const { return engine_->in_flight(); }

}  // namespace portcullis::fetch
