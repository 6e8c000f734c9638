// list_data_collate / decollate_batch.
#include "data_test_util.h"

namespace med::data::test {
namespace {

TEST(Collate, StacksEveryKeyAndKeepsPerItemMeta) {
  std::vector<Data> items;
  for (int64_t i = 0; i < 3; ++i)
    items.push_back(memoryItem(i).data);
  Batch b = list_data_collate(items);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.at("image").data.sizes(), (std::vector<int64_t>{3, 1, 4, 5}));
  EXPECT_EQ(b.at("label").data.sizes(), (std::vector<int64_t>{3}));
  EXPECT_EQ(b.at("label").data.scalar_type(), at::kLong);
  // Hand-checked values: item i's image is arange(20) + 7 i, its label i % 3.
  EXPECT_EQ(b.at("image").data[2][0][3][4].item<float>(), 19.f + 14.f);
  EXPECT_EQ(b.at("label").data[2].item<int64_t>(), 2);
  ASSERT_EQ(b.item_meta.at("image").size(), 3u);
  EXPECT_EQ(b.item_meta.at("image")[1].filename_or_obj, "item1");
  EXPECT_EQ(b.item_meta.at("image")[2].affine[3], 2.0);
  EXPECT_EQ(b.at("image").meta.filename_or_obj, "item0");
}

TEST(Collate, DecollateRoundTrip) {
  std::vector<Data> items;
  for (int64_t i = 0; i < 4; ++i)
    items.push_back(memoryItem(i).data);
  std::vector<Data> back = decollate_batch(list_data_collate(items));
  ASSERT_EQ(back.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i)
    expectSameData(back[i], items[i]);
}

TEST(Collate, DecollatePlainDataSharesTheBatchMeta) {
  Meta m;
  m.filename_or_obj = "pred";
  Data pred{{"pred", MetaTensor(at::ones({2, 3, 4}), m)}};
  std::vector<Data> items = decollate_batch(pred);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].at("pred").data.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(items[1].at("pred").meta.filename_or_obj, "pred");
}

TEST(Collate, Errors) {
  Data a = memoryItem(0).data, b = memoryItem(1).data;
  b["image"].data = at::zeros({1, 4, 6});
  try {
    list_data_collate({a, b});
    FAIL() << "expected med::Error";
  } catch (const med::Error &e) {
    EXPECT_EQ(e.where(), "list_data_collate[image]");
    EXPECT_NE(std::string(e.what()).find("(1, 4, 6)"), std::string::npos) << e.what();
  }
  Data c = memoryItem(1).data;
  c.erase("label");
  EXPECT_THROW(list_data_collate({a, c}), med::Error);
  EXPECT_THROW(list_data_collate({c, a}), med::Error);
  Data bad{{"x", MetaTensor(at::zeros({2, 3}))}, {"y", MetaTensor(at::zeros({3}))}};
  EXPECT_THROW(decollate_batch(bad), med::Error);
  EXPECT_TRUE(list_data_collate({}).empty());
}

} // namespace
} // namespace med::data::test
