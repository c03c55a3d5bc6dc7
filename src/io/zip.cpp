#include "io/zip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE
namespace io {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kMaxCommentSize = 0xFFFF;
constexpr uint64_t kDataAlignment = 64;  // what torch.save uses, so that storages can be mapped in place

/// Little-endian reads at checked offsets: every access says which structure it was reading.
class Bytes {
 public:
  Bytes(std::string_view data, const std::string& source) : data_(data), source_(source) {}

  void require(uint64_t offset, uint64_t length, const char* what) const {
    YOLO_CHECK(offset <= data_.size() && length <= data_.size() - offset,
               "{}: corrupt zip archive: {} at offset {} (+{} bytes) lies past the end of the {}-byte file — "
               "is the file truncated?",
               source_, what, offset, length, data_.size());
  }
  uint16_t u16(uint64_t offset, const char* what) const { return static_cast<uint16_t>(le(offset, 2, what)); }
  uint32_t u32(uint64_t offset, const char* what) const { return static_cast<uint32_t>(le(offset, 4, what)); }
  uint64_t u64(uint64_t offset, const char* what) const { return le(offset, 8, what); }
  std::string_view view(uint64_t offset, uint64_t length, const char* what) const {
    require(offset, length, what);
    return data_.substr(offset, length);
  }
  uint64_t size() const { return data_.size(); }

 private:
  uint64_t le(uint64_t offset, int width, const char* what) const {
    require(offset, width, what);
    uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(data_[offset + i]);
    return value;
  }

  std::string_view data_;
  const std::string& source_;
};

struct CentralDirectory {
  uint64_t offset = 0, size = 0, entries = 0;
};

CentralDirectory locate_central_directory(const Bytes& bytes, const std::string& source) {
  YOLO_CHECK(bytes.size() >= kEndOfCentralDirSize, "{}: not a zip archive ({} bytes is too short)", source,
             bytes.size());
  // The end record sits at the very end unless a comment follows it: search back over the longest comment.
  const uint64_t last = bytes.size() - kEndOfCentralDirSize;
  const uint64_t first = last > kMaxCommentSize ? last - kMaxCommentSize : 0;
  uint64_t end_record = std::numeric_limits<uint64_t>::max();
  for (uint64_t at = last + 1; at-- > first;) {
    if (bytes.u32(at, "end of central directory") == kEndOfCentralDirSignature) {
      end_record = at;
      break;
    }
  }
  YOLO_CHECK(end_record != std::numeric_limits<uint64_t>::max(),
             "{}: corrupt zip archive: no end-of-central-directory record — is the file truncated?", source);
  CentralDirectory dir;
  dir.entries = bytes.u16(end_record + 10, "end of central directory");
  dir.size = bytes.u32(end_record + 12, "end of central directory");
  dir.offset = bytes.u32(end_record + 16, "end of central directory");
  // ZIP64 archives keep the real figures in a second record, found through a locator just before.
  if (end_record >= 20 && bytes.u32(end_record - 20, "zip64 locator") == kZip64LocatorSignature) {
    const uint64_t zip64_end = bytes.u64(end_record - 20 + 8, "zip64 locator");
    YOLO_CHECK(bytes.u32(zip64_end, "zip64 end record") == kZip64EndSignature,
               "{}: corrupt zip archive: the zip64 locator points at offset {}, which holds no zip64 end record",
               source, zip64_end);
    dir.entries = bytes.u64(zip64_end + 32, "zip64 end record");
    dir.size = bytes.u64(zip64_end + 40, "zip64 end record");
    dir.offset = bytes.u64(zip64_end + 48, "zip64 end record");
  }
  bytes.require(dir.offset, dir.size, "the central directory");
  // Each entry takes at least a fixed header: a larger count is a lie that must not drive allocation.
  YOLO_CHECK(dir.entries <= dir.size / kCentralHeaderSize,
             "{}: corrupt zip archive: {} entries cannot fit in a {}-byte central directory", source, dir.entries,
             dir.size);
  return dir;
}

/// Replaces 0xFFFFFFFF sizes and offsets by their 64-bit values from the ZIP64 extra field.
void apply_zip64_extra(std::string_view extra, uint64_t& size, uint64_t& compressed, uint64_t& offset,
                       const std::string& source, const std::string& name) {
  const Bytes fields(extra, source);
  uint64_t at = 0;
  while (at + 4 <= extra.size()) {
    const uint16_t id = fields.u16(at, "extra field"), length = fields.u16(at + 2, "extra field");
    fields.require(at + 4, length, "extra field");
    if (id == kZip64ExtraId) {
      uint64_t field = at + 4;
      const uint64_t field_end = field + length;
      for (uint64_t* value : {&size, &compressed, &offset}) {
        if (*value != 0xFFFFFFFFu) continue;
        YOLO_CHECK(field + 8 <= field_end, "{}: corrupt zip archive: entry '{}' has a short zip64 extra field",
                   source, name);
        *value = fields.u64(field, "zip64 extra field");
        field += 8;
      }
      return;
    }
    at += 4 + length;
  }
}

void put16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put32(std::string& out, uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

}  // namespace

bool looks_like_zip(std::string_view bytes) { return bytes.size() >= 4 && bytes.substr(0, 4) == "PK\3\4"; }

ZipReader::ZipReader(std::shared_ptr<const std::string> bytes, std::string source_name)
    : ZipReader(bytes, std::string_view(*bytes), std::move(source_name)) {}

ZipReader::ZipReader(std::shared_ptr<const void> owner, std::string_view bytes, std::string source_name)
    : owner_(std::move(owner)), bytes_(bytes), source_name_(std::move(source_name)) {
  const Bytes file(bytes_, source_name_);
  const CentralDirectory dir = locate_central_directory(file, source_name_);
  entries_.reserve(dir.entries);
  uint64_t at = dir.offset;
  const uint64_t dir_end = dir.offset + dir.size;
  for (uint64_t i = 0; i < dir.entries; ++i) {
    YOLO_CHECK(at + kCentralHeaderSize <= dir_end && file.u32(at, "central directory entry") == kCentralHeaderSignature,
               "{}: corrupt zip archive: central directory entry {} at offset {} is damaged", source_name_, i, at);
    const uint8_t made_by_host = static_cast<uint8_t>(file.u16(at + 4, "central directory entry") >> 8);
    ZipEntry entry;
    entry.flags = file.u16(at + 8, "central directory entry");
    entry.method = file.u16(at + 10, "central directory entry");
    entry.crc32 = file.u32(at + 16, "central directory entry");
    entry.compressed_size = file.u32(at + 20, "central directory entry");
    entry.size = file.u32(at + 24, "central directory entry");
    const uint16_t name_length = file.u16(at + 28, "central directory entry");
    const uint16_t extra_length = file.u16(at + 30, "central directory entry");
    const uint16_t comment_length = file.u16(at + 32, "central directory entry");
    const uint32_t external_attributes = file.u32(at + 38, "central directory entry");
    uint64_t local_header = file.u32(at + 42, "central directory entry");
    entry.name = std::string(file.view(at + kCentralHeaderSize, name_length, "entry name"));
    apply_zip64_extra(file.view(at + kCentralHeaderSize + name_length, extra_length, "extra field"), entry.size,
                      entry.compressed_size, local_header, source_name_, entry.name);
    at += kCentralHeaderSize + name_length + extra_length + comment_length;
    constexpr uint8_t kUnixHost = 3, kMacOsHost = 19;  // hosts whose attributes carry st_mode in the high half
    if (made_by_host == kUnixHost || made_by_host == kMacOsHost) entry.unix_mode = external_attributes >> 16;

    YOLO_CHECK(entry.method != 0 || entry.compressed_size == entry.size,
               "{}: corrupt zip archive: stored entry '{}' has sizes {} and {}", source_name_, entry.name,
               entry.compressed_size, entry.size);
    YOLO_CHECK(file.u32(local_header, "local header") == kLocalHeaderSignature,
               "{}: corrupt zip archive: entry '{}' points at offset {}, which holds no local header", source_name_,
               entry.name, local_header);
    const uint64_t local_name = file.u16(local_header + 26, "local header");
    const uint64_t local_extra = file.u16(local_header + 28, "local header");
    entry.data_offset = local_header + kLocalHeaderSize + local_name + local_extra;
    file.require(entry.data_offset, entry.compressed_size, ("the data of entry '" + entry.name + "'").c_str());
    entries_.push_back(std::move(entry));
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const ZipEntry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

std::string_view ZipReader::read(const ZipEntry& entry) const {
  YOLO_CHECK(entry.method == 0,
             "{}: entry '{}' is compressed (zip method {}); PyTorch checkpoints store entries uncompressed — "
             "re-save it with torch.save instead of re-zipping it",
             source_name_, entry.name, entry.method);
  const std::string_view data = bytes_.substr(entry.data_offset, entry.size);
  YOLO_CHECK(crc32(data) == entry.crc32, "{}: corrupt zip archive: entry '{}' fails its CRC-32 check", source_name_,
             entry.name);
  return data;
}

void ZipReader::extract(const ZipEntry& entry, const std::function<void(std::string_view)>& write) const {
  YOLO_CHECK(entry.method == 0 || entry.method == 8,
             "{}: entry '{}' uses zip method {}; only stored (0) and deflate (8) entries can be read — re-create the "
             "archive with plain zip",
             source_name_, entry.name, entry.method);
  YOLO_CHECK((entry.flags & 1) == 0, "{}: entry '{}' is encrypted; give an archive without a password", source_name_,
             entry.name);
  constexpr size_t kChunk = size_t{1} << 18;
  const std::string_view input = bytes_.substr(entry.data_offset, entry.compressed_size);
  uint32_t crc = 0;
  uint64_t produced = 0;
  const auto emit = [&](std::string_view chunk) {
    // Checked before writing, so a lying size never gets more than its declared bytes onto the disk.
    YOLO_CHECK(chunk.size() <= entry.size - produced,
               "{}: entry '{}' decodes to more than the {} bytes it declares — a damaged archive or a zip bomb",
               source_name_, entry.name, entry.size);
    produced += chunk.size();
    crc = crc32(chunk, crc);
    write(chunk);
  };
  if (entry.method == 0) {
    for (size_t at = 0; at < input.size(); at += kChunk) emit(input.substr(at, kChunk));
  } else {
    z_stream stream{};
    YOLO_CHECK(inflateInit2(&stream, -MAX_WBITS) == Z_OK, "zlib: cannot start a deflate decoder");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
    std::string buffer(kChunk, '\0');
    size_t consumed = 0;
    int status = Z_OK;
    while (status != Z_STREAM_END) {
      if (stream.avail_in == 0 && consumed < input.size()) {
        // zlib counts in 32-bit units: feed large entries in pieces.
        const size_t piece = std::min<size_t>(input.size() - consumed, uInt{1} << 30);
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + consumed));
        stream.avail_in = static_cast<uInt>(piece);
        consumed += piece;
      }
      stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
      stream.avail_out = static_cast<uInt>(buffer.size());
      status = inflate(&stream, Z_NO_FLUSH);
      YOLO_CHECK(status == Z_OK || status == Z_STREAM_END,
                 "{}: corrupt zip archive: entry '{}' is not valid deflate data ({})", source_name_, entry.name,
                 stream.msg ? stream.msg : (status == Z_BUF_ERROR ? "truncated" : "zlib error"));
      emit(std::string_view(buffer.data(), buffer.size() - stream.avail_out));
    }
  }
  YOLO_CHECK(produced == entry.size, "{}: corrupt zip archive: entry '{}' decodes to {} bytes, its header says {}",
             source_name_, entry.name, produced, entry.size);
  YOLO_CHECK(crc == entry.crc32, "{}: corrupt zip archive: entry '{}' fails its CRC-32 check", source_name_,
             entry.name);
}

void ZipWriter::add(const std::string& name, std::string_view data) {
  constexpr uint16_t kPaddingId = 0x4246;  // "FB": the padding field torch.save uses
  const uint64_t header = out_.size();
  uint64_t data_start = header + kLocalHeaderSize + name.size() + 4;
  const uint64_t padding = (kDataAlignment - data_start % kDataAlignment) % kDataAlignment;
  data_start += padding;
  YOLO_CHECK(data_start + data.size() < 0xFFFFFFFFull && name.size() < 0xFFFF,
             "checkpoint too large: the zip writer does not write ZIP64 archives (over 4 GiB)");
  ZipEntry entry{name, header, data.size(), crc32(data)};  // data_offset holds the local header's offset here
  out_.reserve(data_start + data.size());
  put32(out_, kLocalHeaderSignature);
  put16(out_, 20);  // version needed: 2.0
  put16(out_, 0);   // flags
  put16(out_, 0);   // method: stored
  put16(out_, 0);   // time
  put16(out_, 0x21);  // date: 1980-01-01
  put32(out_, entry.crc32);
  put32(out_, static_cast<uint32_t>(data.size()));
  put32(out_, static_cast<uint32_t>(data.size()));
  put16(out_, static_cast<uint32_t>(name.size()));
  put16(out_, static_cast<uint32_t>(4 + padding));
  out_ += name;
  put16(out_, kPaddingId);
  put16(out_, static_cast<uint32_t>(padding));
  out_.append(padding, 'Z');
  out_.append(data.data(), data.size());
  written_.push_back(std::move(entry));
}

std::string ZipWriter::finish() {
  const uint64_t directory = out_.size();
  for (const ZipEntry& e : written_) {
    put32(out_, kCentralHeaderSignature);
    put16(out_, 20);  // made by
    put16(out_, 20);  // needed
    put16(out_, 0);
    put16(out_, 0);
    put16(out_, 0);
    put16(out_, 0x21);
    put32(out_, e.crc32);
    put32(out_, static_cast<uint32_t>(e.size));
    put32(out_, static_cast<uint32_t>(e.size));
    put16(out_, static_cast<uint32_t>(e.name.size()));
    put16(out_, 0);  // extra
    put16(out_, 0);  // comment
    put16(out_, 0);  // disk
    put16(out_, 0);  // internal attributes
    put32(out_, 0);  // external attributes
    put32(out_, static_cast<uint32_t>(e.data_offset));  // the local header's offset
    out_ += e.name;
  }
  const uint64_t directory_size = out_.size() - directory;
  YOLO_CHECK(out_.size() < 0xFFFFFFFFull && written_.size() < 0xFFFF,
             "checkpoint too large: the zip writer does not write ZIP64 archives (over 4 GiB or 65535 entries)");
  put32(out_, kEndOfCentralDirSignature);
  put16(out_, 0);
  put16(out_, 0);
  put16(out_, static_cast<uint32_t>(written_.size()));
  put16(out_, static_cast<uint32_t>(written_.size()));
  put32(out_, static_cast<uint32_t>(directory_size));
  put32(out_, static_cast<uint32_t>(directory));
  put16(out_, 0);
  written_.clear();
  std::string archive = std::move(out_);
  out_.clear();
  return archive;
}

}  // namespace io
YOLO_END_NAMESPACE
