#pragma once
// Test fixtures of the download and archive tests: an HTTP server on 127.0.0.1 (a port the kernel
// picks at bind time) with Range support and scripted faults, a zip builder that can write
// hostile archives, and a scoped environment variable.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace yolo::test {

/// The whole contents of a file ("" when it cannot be read).
inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Sets an environment variable for the lifetime of the object (unset when `value` is nullptr).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ScopedEnv(const char* name, const std::string& value) : ScopedEnv(name, value.c_str()) {}
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

/// A small HTTP/1.1 server for tests: one request per connection, GET only, `Range: bytes=N-`.
class TestHttpServer {
 public:
  struct Route {
    std::string body;
    bool ranges = true;              // answer Range requests with 206 (else ignore them, 200)
    size_t cut_first_after = 0;      // > 0: the first response stops after this many body bytes
    int fail_first = 0;              // the first N requests get `fail_status`
    int fail_status = 503;
    size_t throttle_chunk = 0;       // > 0: send the body in chunks this big ...
    int throttle_ms = 0;             // ... with this pause between them
  };

  TestHttpServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) throw std::runtime_error("test server: socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // the kernel picks a free port as it binds: nothing can take it in between
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(listener_, 16) != 0)
      throw std::runtime_error("test server: cannot listen on 127.0.0.1");
    socklen_t length = sizeof(address);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TestHttpServer() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listener_);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& worker : workers_) worker.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void serve(const std::string& path, Route route) {
    std::lock_guard<std::mutex> lock(mutex_);
    routes_[path] = std::move(route);
  }
  void serve(const std::string& path, const std::string& body) { serve(path, Route{body}); }
  /// Requests received for `path` so far (any status).
  int requests(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = log_.find(path);
    return it == log_.end() ? 0 : static_cast<int>(it->second.size());
  }
  int total_requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const auto& entry : log_) n += static_cast<int>(entry.second.size());
    return n;
  }
  /// The Range header of each request for `path` ("" when absent).
  std::vector<std::string> ranges(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = log_.find(path);
    return it == log_.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      workers_.emplace_back([this, client] {
        handle(client);
        ::close(client);
      });
    }
  }

  static bool send_all(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n, size -= static_cast<size_t>(n);
    }
    return true;
  }

  void handle(int client) {
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      request.append(buffer, static_cast<size_t>(n));
    }
    const auto first_space = request.find(' ');
    const std::string path = request.substr(first_space + 1, request.find(' ', first_space + 1) - first_space - 1);
    std::string range;
    const auto range_at = request.find("\r\nRange: ");
    if (range_at != std::string::npos) range = request.substr(range_at + 9, request.find("\r\n", range_at + 2) - range_at - 9);

    Route route;
    bool found, cut = false, fail = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      log_[path].push_back(range);
      const auto it = routes_.find(path);
      found = it != routes_.end();
      if (found) {
        Route& r = it->second;
        route = r;
        if (r.fail_first > 0) fail = true, --r.fail_first;
        if (r.cut_first_after > 0) cut = true, r.cut_first_after = 0;
      }
    }
    const auto reply = [&](int status, const std::string& reason, const std::string& headers) {
      const std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + headers +
                               "Connection: close\r\n\r\n";
      send_all(client, head.data(), head.size());
    };
    if (!found) {
      const std::string body = "not here";
      reply(404, "Not Found", "Content-Length: " + std::to_string(body.size()) + "\r\n");
      send_all(client, body.data(), body.size());
      return;
    }
    if (fail) {
      reply(route.fail_status, "Failing On Purpose", "Content-Length: 0\r\n");
      return;
    }
    size_t start = 0;
    const std::string& body = route.body;
    if (!range.empty() && route.ranges && range.rfind("bytes=", 0) == 0) {
      start = std::stoull(range.substr(6));
      if (start >= body.size()) {
        reply(416, "Range Not Satisfiable", "Content-Range: bytes */" + std::to_string(body.size()) + "\r\n");
        return;
      }
      reply(206, "Partial Content",
            "Content-Length: " + std::to_string(body.size() - start) + "\r\nContent-Range: bytes " +
                std::to_string(start) + "-" + std::to_string(body.size() - 1) + "/" + std::to_string(body.size()) + "\r\n");
    } else {
      reply(200, "OK", "Content-Length: " + std::to_string(body.size()) + "\r\nAccept-Ranges: bytes\r\n");
    }
    size_t end = body.size();
    if (cut) end = std::min(end, start + route.cut_first_after);
    const size_t chunk = route.throttle_chunk > 0 ? route.throttle_chunk : end - start;
    for (size_t at = start; at < end; at += chunk) {
      if (!send_all(client, body.data() + at, std::min(chunk, end - at))) return;
      if (route.throttle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(route.throttle_ms));
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::map<std::string, Route> routes_;
  std::map<std::string, std::vector<std::string>> log_;
};

/// One member of a test archive. Hostile archives come from the knobs: any name, a Unix mode
/// (links, devices), a declared size that lies, data shared with an earlier member.
struct ZipMember {
  std::string name;
  std::string data;
  bool deflate = true;
  uint32_t unix_mode = 0100644;
  std::optional<uint32_t> declared_size;  // the size written in the headers, if not the real one
  std::optional<size_t> same_data_as;     // index of an earlier member whose local header to point at
};

inline std::string deflate_raw(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

/// A zip archive of `members` (no ZIP64; test archives are small).
inline std::string build_zip(const std::vector<ZipMember>& members) {
  std::string zip, directory;
  const auto put = [](std::string& out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  };
  std::vector<uint32_t> offsets, stored_sizes;
  for (const auto& m : members) {
    const uint32_t crc = static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(m.data.data()),
                                                       static_cast<uInt>(m.data.size())));
    const uint32_t size = m.declared_size.value_or(static_cast<uint32_t>(m.data.size()));
    const uint16_t method = m.deflate ? 8 : 0;
    if (m.same_data_as) {
      offsets.push_back(offsets.at(*m.same_data_as));
      stored_sizes.push_back(stored_sizes.at(*m.same_data_as));
    } else {
      const std::string stored = m.deflate ? deflate_raw(m.data) : m.data;
      offsets.push_back(static_cast<uint32_t>(zip.size()));
      stored_sizes.push_back(static_cast<uint32_t>(stored.size()));
      put(zip, 0x04034b50, 4), put(zip, 20, 2), put(zip, 0, 2), put(zip, method, 2), put(zip, 0, 4);
      put(zip, crc, 4), put(zip, stored.size(), 4), put(zip, size, 4), put(zip, m.name.size(), 2), put(zip, 0, 2);
      zip += m.name + stored;
    }
    put(directory, 0x02014b50, 4), put(directory, (3 << 8) | 20, 2), put(directory, 20, 2), put(directory, 0, 2);
    put(directory, method, 2), put(directory, 0, 4), put(directory, crc, 4), put(directory, stored_sizes.back(), 4);
    put(directory, size, 4), put(directory, m.name.size(), 2), put(directory, 0, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, uint64_t{m.unix_mode} << 16, 4);
    put(directory, offsets.back(), 4);
    directory += m.name;
  }
  const uint32_t directory_offset = static_cast<uint32_t>(zip.size());
  zip += directory;
  put(zip, 0x06054b50, 4), put(zip, 0, 2), put(zip, 0, 2), put(zip, members.size(), 2), put(zip, members.size(), 2);
  put(zip, directory.size(), 4), put(zip, directory_offset, 4), put(zip, 0, 2);
  return zip;
}

}  // namespace yolo::test
