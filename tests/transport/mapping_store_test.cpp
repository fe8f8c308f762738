#include "transport/mapping_store.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

using namespace kesm::transport;

namespace {

std::string fresh_path(const std::string& name) {
  auto path = ::testing::TempDir() + name;
  for (auto suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
  return path;
}

stored_mapping mapping(const std::string& uuid, int64_t t) {
  return stored_mapping{uuid, "{\"FunctionName\":\"fn-" + uuid + "\"}", "api",
                        t};
}

} // namespace

TEST(mapping_store, keeps_mappings_across_reopen) {
  auto path = fresh_path("store-reopen.db");
  {
    auto s = mapping_store::open(path);
    ASSERT_TRUE(s) << s.err().message;
    ASSERT_TRUE(s->put(mapping("a", 10)));
    ASSERT_TRUE(s->put(mapping("b", 5)));
    auto changed = mapping("a", 20);
    changed.document = "{\"FunctionName\":\"other\"}";
    ASSERT_TRUE(s->put(changed));
  }
  auto s = mapping_store::open(path);
  ASSERT_TRUE(s);
  auto all = s->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(0).uuid, "b");
  EXPECT_EQ(all->at(1).uuid, "a");
  EXPECT_EQ(all->at(1).document, "{\"FunctionName\":\"other\"}");
  EXPECT_EQ(all->at(1).last_modified, 20);
}

TEST(mapping_store, erases_and_says_whether_it_did) {
  auto s = mapping_store::open(fresh_path("store-erase.db"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put(mapping("a", 1)));
  auto gone = s->erase("a");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(*gone);
  auto again = s->erase("a");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_TRUE(s->load_all()->empty());
}

TEST(mapping_store, a_put_survives_kill_9) {
  auto path = fresh_path("store-kill.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    auto s = mapping_store::open(path);
    if (!s || !s->put(mapping("survivor", 42)))
      _exit(1);
    char ok = 'y';
    if (write(fds[1], &ok, 1) != 1)
      _exit(1);
    pause(); // killed here, with the store still open
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  auto s = mapping_store::open(path);
  ASSERT_TRUE(s);
  auto all = s->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->at(0).uuid, "survivor");
  EXPECT_EQ(all->at(0).last_modified, 42);
}

TEST(mapping_store, says_what_to_do_when_it_cannot_open) {
  auto s = mapping_store::open("/nonexistent-dir/kesm.db");
  ASSERT_FALSE(s);
  EXPECT_NE(s.err().message.find("--store"), std::string::npos);
}
