#include "services/tokenizer/bpe_model.h"

#include "gtest/gtest.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

std::vector<uint32_t> Ids(const BpeModel& m, std::string_view piece) {
  std::vector<PieceToken> out;
  m.Tokenize(piece, out);
  std::vector<uint32_t> ids;
  for (const auto& t : out) ids.push_back(t.id);
  return ids;
}

std::unique_ptr<BpeModel> Make(Json model) {
  model["type"] = "BPE";
  auto m = BpeModel::FromJson(model);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(*m);
}

TEST(BpeModelTest, MergesLowestRankFirst) {
  auto m = Make({{"vocab", {{"u", 0}, {"n", 1}, {"r", 2}, {"e", 3}, {"l", 4}, {"a", 5}, {"t", 6},
                            {"d", 7}, {"re", 8}, {"at", 9}, {"ed", 10}, {"un", 11}, {"ated", 12},
                            {"rel", 13}, {"related", 14}, {"unrelated", 15}}},
                 {"merges", {"r e", "a t", "e d", "u n", "at ed", "re l", "rel ated", "un related"}}});
  EXPECT_EQ(Ids(*m, "unrelated"), std::vector<uint32_t>{15});
  EXPECT_EQ(Ids(*m, "unrelated"), std::vector<uint32_t>{15});  // Cached.
  EXPECT_EQ(Ids(*m, "dated"), (std::vector<uint32_t>{7, 12}));
}

TEST(BpeModelTest, UnknownCharactersFuseOrNot) {
  Json base = {{"vocab", {{"<unk>", 0}, {"a", 1}, {"b", 2}}}, {"merges", Json::array()},
               {"unk_token", "<unk>"}};
  auto plain = Make(base);
  EXPECT_EQ(Ids(*plain, "accb"), (std::vector<uint32_t>{1, 0, 0, 2}));
  base["fuse_unk"] = true;
  auto fused = Make(base);
  EXPECT_EQ(Ids(*fused, "accb"), (std::vector<uint32_t>{1, 0, 2}));
}

TEST(BpeModelTest, ByteFallbackSpellsUnknownCharactersAsBytes) {
  auto m = Make({{"vocab", {{"<unk>", 0}, {"<0xEC>", 1}, {"<0x95>", 2}, {"<0x88>", 3}, {"a", 4}}},
                 {"merges", Json::array()}, {"unk_token", "<unk>"}, {"byte_fallback", true}});
  EXPECT_EQ(Ids(*m, "a안"), (std::vector<uint32_t>{4, 1, 2, 3}));
  EXPECT_EQ(Ids(*m, "z"), std::vector<uint32_t>{0});  // <0x7A> missing: unk.
}

TEST(BpeModelTest, IgnoreMergesTakesWholeWords) {
  Json model = {{"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}, {"abb", 3}}}, {"merges", {"a b"}}};
  EXPECT_EQ(Ids(*Make(model), "abb"), (std::vector<uint32_t>{2, 1}));
  model["ignore_merges"] = true;
  EXPECT_EQ(Ids(*Make(model), "abb"), std::vector<uint32_t>{3});
}

TEST(BpeModelTest, ContinuingSubwordPrefix) {
  auto m = Make({{"vocab", {{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"abc", 4}}},
                 {"merges", {"a ##b", "ab ##c"}}, {"continuing_subword_prefix", "##"}});
  EXPECT_EQ(Ids(*m, "abc"), std::vector<uint32_t>{4});
}

TEST(BpeModelTest, BadMergesAreErrorsNamingTheMerge) {
  auto m = BpeModel::FromJson({{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", {"a b"}}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("merge 0"), std::string_view::npos);
}

}  // namespace
}  // namespace sllm::tokenizer
