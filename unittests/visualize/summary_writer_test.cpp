// SummaryWriter's event files decoded by a reader written here: TFRecord framing with a bitwise
// CRC-32C (checked against the standard vector), a generic protobuf field parser, and the PNG
// payload read back through med::io::LoadImage.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "event_reader.h"
#include "med/core/error.h"
#include "med/io/image_io.h"
#include "med/visualize/summary_writer.h"

namespace V = med::visualize;
namespace fs = std::filesystem;
using namespace med_vis_test;

namespace {

TEST(Crc32c, StandardCheckValue) { EXPECT_EQ(crc32cBitwise("123456789"), 0xE3069283u); }

TEST(SummaryWriter, EventFileFramingAndFields) {
  const fs::path dir = fs::temp_directory_path() / ("med-vis-tb-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  at::Tensor rgb = at::randint(0, 256, {3, 2, 5}, at::kByte);
  std::string path;
  {
    V::SummaryWriter w(dir.string());
    path = w.file_path();
    w.add_scalar("train/loss", 0.25, 7, 1000.5);
    w.add_scalar("neg", -3.5, -2);
    w.add_image("img", rgb, 3);
    w.add_image("grey_hw", at::full({4, 6}, 0.5), 4, "HW");
    w.add_text("note", "hello", 5);
    w.flush();
  } // destructor closes
  const std::string name = fs::path(path).filename().string();
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  char host[256] = {0};
  ::gethostname(host, 255);
  EXPECT_NE(name.find(host), std::string::npos);

  auto recs = readRecords(path);
  ASSERT_EQ(recs.size(), 6u);
  // 1. file version
  Fields e0 = parse(recs[0]);
  EXPECT_EQ(one(e0, 1).wire, 1);
  EXPECT_GT(asDouble(one(e0, 1).num), 1.6e9);
  EXPECT_EQ(one(e0, 3).bytes, "brain.Event:2");
  // 2. scalar with explicit wall time and step
  Fields e1 = parse(recs[1]);
  EXPECT_EQ(asDouble(one(e1, 1).num), 1000.5);
  EXPECT_EQ(one(e1, 2).num, 7u);
  Fields v1 = parse(one(parse(one(e1, 5).bytes), 1).bytes);
  EXPECT_EQ(one(v1, 1).bytes, "train/loss");
  EXPECT_EQ(one(v1, 2).wire, 5);
  EXPECT_EQ(asFloat(one(v1, 2).num), 0.25f);
  // negative step: int64 as a 10-byte varint
  Fields e2 = parse(recs[2]);
  EXPECT_EQ(static_cast<int64_t>(one(e2, 2).num), -2);
  EXPECT_EQ(asFloat(one(parse(one(parse(one(e2, 5).bytes), 1).bytes), 2).num), -3.5f);
  // 3. image: height, width, colourspace, PNG bytes that decode to the same pixels
  Fields e3 = parse(recs[3]);
  EXPECT_EQ(one(e3, 2).num, 3u);
  Fields v3 = parse(one(parse(one(e3, 5).bytes), 1).bytes);
  EXPECT_EQ(one(v3, 1).bytes, "img");
  Fields im = parse(one(v3, 4).bytes);
  EXPECT_EQ(one(im, 1).num, 2u);
  EXPECT_EQ(one(im, 2).num, 5u);
  EXPECT_EQ(one(im, 3).num, 3u);
  const std::string png = one(im, 4).bytes;
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const std::string png_path = (dir / "payload.png").string();
  std::ofstream(png_path, std::ios::binary).write(png.data(), png.size());
  auto loaded = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(png_path);
  EXPECT_TRUE(at::equal(loaded.data.permute({2, 1, 0}).to(at::kByte), rgb));
  // float HW image scaled by 255 and truncated: 0.5 -> 127, grey colourspace
  Fields im4 = parse(one(parse(one(parse(one(parse(recs[4]), 5).bytes), 1).bytes), 4).bytes);
  EXPECT_EQ(one(im4, 1).num, 4u);
  EXPECT_EQ(one(im4, 2).num, 6u);
  EXPECT_EQ(one(im4, 3).num, 1u);
  const std::string png4 = one(im4, 4).bytes;
  std::ofstream((dir / "p4.png").string(), std::ios::binary).write(png4.data(), png4.size());
  auto l4 = med::io::LoadImage(med::io::LoadImageOptions().dtype(c10::nullopt))(
      (dir / "p4.png").string());
  EXPECT_TRUE((l4.data == 127).all().item<bool>());
  // 4. text: tag/text_summary, text plugin metadata, DT_STRING tensor holding the text
  Fields v5 = parse(one(parse(one(parse(recs[5]), 5).bytes), 1).bytes);
  EXPECT_EQ(one(v5, 1).bytes, "note/text_summary");
  EXPECT_EQ(one(parse(one(parse(one(v5, 9).bytes), 1).bytes), 1).bytes, "text");
  Fields tensor = parse(one(v5, 8).bytes);
  EXPECT_EQ(one(tensor, 1).num, 7u);
  EXPECT_EQ(one(tensor, 8).bytes, "hello");
  fs::remove_all(dir);
}

TEST(SummaryWriter, ClosedWriterAndBadImagesThrow) {
  const fs::path dir = fs::temp_directory_path() / ("med-vis-tb2-" + std::to_string(::getpid()));
  V::SummaryWriter w(dir.string(), ".suffix");
  EXPECT_NE(w.file_path().find(".suffix"), std::string::npos);
  EXPECT_THROW(w.add_image("x", at::zeros({2, 3, 3}), 0), med::Error);
  EXPECT_THROW(w.add_image("x", at::zeros({3, 3}), 0, "CHW"), med::Error);
  w.close();
  EXPECT_THROW(w.add_scalar("x", 1.0, 0), med::Error);
  // a second writer in the same second gets its own file
  V::SummaryWriter a(dir.string()), b(dir.string());
  EXPECT_NE(a.file_path(), b.file_path());
  fs::remove_all(dir);
}

} // namespace
