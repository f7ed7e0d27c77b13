// safetensors: exact on-disk layout, round trip, hand-written headers, and every rejection path.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/temp_dir.h"
#include "engine/safetensors.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.begin(), s.size());
  return s;
}

// A file from a hand-written header: 8-byte little-endian length, header, data.
std::string file_with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char(n >> (8 * i));
  return out + header + data;
}

std::vector<NamedTensor> sample() {
  return {{"w", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {3}, {-1.5f, 0, 1e-8f}}, {"step", {}, {42}},
          {"empty", {0, 4}, {}}};
}

}  // namespace

TEST_CASE("safetensors: round trip keeps names, shapes, bits and metadata") {
  TempDir t("st_round");
  const std::string path = t / "ck.safetensors";
  save_safetensors(path, sample(), {{"model", "cvae"}, {"note", "quote \" and \\ and\nnewline"}});
  CHECK_FALSE(fs::exists(path + ".tmp"));

  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> got = load_safetensors(path, &meta);
  REQUIRE(got.size() == 4);
  CHECK(got[0].name == "b");  // sorted by name
  CHECK(got[1].name == "empty");
  CHECK(got[2].name == "step");
  CHECK(got[3].name == "w");
  CHECK(got[0].data == std::vector<float>{-1.5f, 0, 1e-8f});
  CHECK(got[1].shape == std::vector<int>{0, 4});
  CHECK(got[1].data.empty());
  CHECK(got[2].shape.empty());
  CHECK(got[2].data == std::vector<float>{42});
  CHECK(got[3].shape == std::vector<int>{2, 3});
  CHECK(got[3].data == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(meta.at("model") == "cvae");
  CHECK(meta.at("note") == "quote \" and \\ and\nnewline");
  CHECK(find_tensor(got, "w", path).data[5] == 6);
  CHECK_THROWS_WITH_AS(find_tensor(got, "decoder.w", path),
                       contains("checkpoint " + path + " has no tensor decoder.w"), std::runtime_error);

  // Saving again replaces the file.
  save_safetensors(path, {{"only", {1}, {7}}});
  got = load_safetensors(path, &meta);
  REQUIRE(got.size() == 1);
  CHECK(got[0].data[0] == 7);
  CHECK(meta.empty());
}

TEST_CASE("safetensors: the bytes follow the format exactly") {
  TempDir t("st_layout");
  const std::string path = t / "ck.safetensors";
  save_safetensors(path, {{"b", {2}, {1, 2}}, {"a", {1}, {3}}});
  const std::string bytes = slurp(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[size_t(i)]);
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 12);
  const std::string header = bytes.substr(8, n);
  const std::string want =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
  CHECK(header.substr(0, want.size()) == want);
  CHECK(header.find_first_not_of(' ', want.size()) == std::string::npos);  // space padding only
  CHECK(bytes.substr(8 + n) == floats({3, 1, 2}));
}

TEST_CASE("safetensors: any valid header layout is read") {
  TempDir t("st_header");
  const std::string path = t / "hand.safetensors";
  const std::string header =
      " {\n  \"z\\u0041\" : { \"data_offsets\" : [ 8 , 12 ], \"shape\": [1], \"dtype\": \"F32\" },\r\n"
      "\t\"__metadata__\": {\"k\": \"v\\u00e9\\ud83d\\ude00\"},\n"
      "  \"x\": {\"shape\": [1, 2], \"dtype\": \"F32\", \"data_offsets\": [0, 8]}\n}   ";
  spit(path, file_with_header(header, floats({1, 2, 3})));
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> got = load_safetensors(path, &meta);
  REQUIRE(got.size() == 2);
  CHECK(got[0].name == "x");
  CHECK(got[0].data == std::vector<float>{1, 2});
  CHECK(got[1].name == "zA");
  CHECK(got[1].data == std::vector<float>{3});
  CHECK(meta.at("k") == "v\xc3\xa9\xf0\x9f\x98\x80");
}

TEST_CASE("safetensors: truncated files and bad header lengths are rejected") {
  TempDir t("st_trunc");
  const std::string path = t / "ck.safetensors";
  save_safetensors(path, sample());
  const std::string good = slurp(path);

  spit(path, good.substr(0, good.size() - 4));
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains(path), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("truncated"), std::runtime_error);

  spit(path, good.substr(0, 5));
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("too short"), std::runtime_error);

  spit(path, good.substr(0, 40));  // cut inside the header
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("exceeds the file size"), std::runtime_error);

  spit(path, "hello world, this is not a checkpoint");
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("bad header length"), std::runtime_error);

  CHECK_THROWS_WITH_AS(load_safetensors(t / "missing.safetensors"), contains("missing.safetensors"),
                       std::runtime_error);
}

TEST_CASE("safetensors: garbage headers are rejected with the file named") {
  TempDir t("st_garbage");
  const std::string path = t / "bad.safetensors";
  const char* bad_headers[] = {
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",   // unclosed
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}",  // trailing comma
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", // junk after
      "{a:1}",
      "[1,2,3]",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
      "{\"a\":1}",
      "{\"__metadata__\":{\"k\":1}}",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{}}",  // duplicate key
  };
  for (const char* h : bad_headers) {
    CAPTURE(h);
    spit(path, file_with_header(h, floats({1})));
    CHECK_THROWS_WITH_AS(load_safetensors(path), contains("safetensors file " + path), std::runtime_error);
  }
}

TEST_CASE("safetensors: offsets must match shapes and tile the data exactly") {
  TempDir t("st_offsets");
  const std::string path = t / "bad.safetensors";
  auto load_with = [&](const std::string& header, const std::string& data) {
    spit(path, file_with_header(header, data));
    return load_safetensors(path);
  };
  CHECK_THROWS_WITH_AS(load_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}",
                                 floats({1, 2, 3})),
                       contains("has shape [2,2] (16 bytes) but data_offsets span 12 bytes"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                 floats({1, 2, 3})),
                       contains("overlaps"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                                 floats({1, 2})),
                       contains("gap of 4 bytes"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                 floats({1, 2})),
                       contains("unaccounted"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                                 floats({1, 2})),
                       contains("outside the 8-byte data section"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_with("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                                 floats({1})),
                       contains("unsupported dtype 'F16'"), std::runtime_error);
  // A shape whose element count overflows must not wrap around to a small size.
  CHECK_THROWS_AS(load_with("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647,"
                            "2147483647,4],\"data_offsets\":[0,0]}}",
                            ""),
                  std::runtime_error);
}

TEST_CASE("safetensors: save refuses inconsistent tensors and leaves no temp file") {
  TempDir t("st_save");
  const std::string path = t / "ck.safetensors";
  CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", {2, 2}, {1, 2, 3}}}),
                       contains("has shape [2,2] (4 values) but holds 3"), std::runtime_error);
  CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", {1}, {1}}, {"w", {1}, {2}}}),
                       contains("duplicate tensor name 'w'"), std::runtime_error);
  CHECK_THROWS_AS(save_safetensors(path, {{"__metadata__", {1}, {1}}}), std::runtime_error);
  CHECK_THROWS_AS(save_safetensors(t / "no_such_dir/ck.safetensors", {{"w", {1}, {1}}}), std::runtime_error);
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("safetensors: reads no further than the header says") {
  TempDir t("st_bounded");
  const std::string path = t / "ck.safetensors";
  // Endless input: the length field reads 0 and is refused at once.
  CHECK_THROWS_WITH_AS(load_safetensors("/dev/zero"), contains("/dev/zero: bad header length 0"), std::runtime_error);
  // A valid file followed by 64 GiB (sparse, so nothing is stored) fails without being read whole.
  save_safetensors(path, sample());
  fs::resize_file(path, 64ull << 30);
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("unaccounted"), std::runtime_error);
  // A header claiming 99 MB of JSON in a short file, and data offsets far past the end of the file.
  spit(path, file_with_header(std::string(100, ' '), "").replace(0, 8, std::string("\x00\x00\x30\x06\x00\x00\x00\x00", 8)));
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("exceeds the file size"), std::runtime_error);
  spit(path, file_with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                              "\"data_offsets\":[0,1000000000000000000]}}", floats({1})));
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains("outside the 4-byte data section"), std::runtime_error);
}

TEST_CASE("safetensors: a folder, an empty name and a name that is not UTF-8 are refused, naming the file") {
  TempDir t("st_names");
  CHECK_THROWS_WITH_AS(load_safetensors(t.path.string()), contains(t.path.string() + " is a folder"),
                       std::runtime_error);
  const std::string path = t / "bad.safetensors";
  spit(path, file_with_header("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats({1})));
  CHECK_THROWS_WITH_AS(load_safetensors(path), contains(path + ": a tensor has an empty name"), std::runtime_error);
  for (const char* name : {"\xff", "w\xc3", "\xc0\xaf", "\xed\xa0\x80"}) {  // bad byte, cut, overlong, surrogate
    CAPTURE(name);
    spit(path, file_with_header(std::string("{\"") + name + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                floats({1})));
    CHECK_THROWS_WITH_AS(load_safetensors(path), contains("not valid UTF-8"), std::runtime_error);
  }
  // Well-formed multi-byte names load.
  spit(path, file_with_header("{\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\":{\"dtype\":\"F32\",\"shape\":[1],"
                              "\"data_offsets\":[0,4]}}", floats({1})));
  CHECK(load_safetensors(path)[0].name == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST_CASE("safetensors: a temp file left by a killed run is replaced, never written through") {
  TempDir t("st_stale_tmp");
  const std::string path = t / "ck.safetensors", victim = t / "victim";
  spit(victim, "someone else's file");
  fs::create_symlink(victim, path + ".tmp");
  save_safetensors(path, sample());
  CHECK(slurp(victim) == "someone else's file");
  CHECK(fs::is_regular_file(fs::symlink_status(path)));
  CHECK_FALSE(fs::exists(fs::symlink_status(path + ".tmp")));
  CHECK(load_safetensors(path).size() == sample().size());
}
