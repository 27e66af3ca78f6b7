// The installed library: a consumer project builds against it through pkg-config.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include <unistd.h>

#include "helpers.hpp"

namespace {

// Runs a shell command; returns its exit status and what it printed (stdout and stderr).
std::pair<int, std::string> shell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  return {pclose(p), out};
}

}  // namespace

TEST_CASE("a consumer project builds against an installed copy and prints a TTFT") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("roofline_install_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string dest = (dir / "dest").string();
  int rc = 0;  // not a structured binding: clang 14 cannot capture those in the CHECK macros
  std::string out;
  std::tie(rc, out) =
      shell("DESTDIR=" + dest + " meson install -C " ROOFLINE_BUILD_DIR " --no-rebuild --quiet");
  REQUIRE_MESSAGE(rc == 0, out);
  CHECK(fs::exists(dest + "/usr/local/include/roofline/estimate/estimate.hpp"));
  // every header a public header includes is installed too (the consumer includes them all)
  for (const char* h : {"scaling/scaling.hpp", "estimate/compare.hpp", "graph/moe.hpp", "graph/mla.hpp"})
    CHECK(fs::exists(dest + "/usr/local/include/roofline/" + h));
  CHECK_FALSE(fs::exists(dest + "/usr/local/include/roofline/io/io_reader.hpp"));  // internal
  CHECK(fs::exists(dest + "/usr/local/share/roofline/hw_profiles/h100_sxm.yaml"));
  CHECK(fs::exists(dest + "/usr/local/share/roofline/model_specs/paper/xlstm_7b.yaml"));
  std::string pc_dir;
  for (const auto& e : fs::recursive_directory_iterator(dest))
    if (e.path().filename() == "roofline.pc") pc_dir = e.path().parent_path().string();
  REQUIRE(!pc_dir.empty());
  // The consumer is compiled like this build: same compiler, same sanitizers.
  std::string options;
#if defined(__SANITIZE_ADDRESS__)
  options = " -Db_sanitize=address,undefined -Db_lundef=false";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  options = " -Db_sanitize=address,undefined -Db_lundef=false";
#endif
#endif
#if defined(__clang__)
  const std::string cxx = "CXX=clang++ ";
#else
  const std::string cxx = "CXX=g++ ";
#endif
  const std::string env = "PKG_CONFIG_SYSROOT_DIR=" + dest + " PKG_CONFIG_PATH=" + pc_dir + " ";
  std::tie(rc, out) =
      shell(env + cxx + "meson setup " + (dir / "consumer").string() + " " + test::source_dir +
            "/examples/consumer" + options + " && ninja -C " + (dir / "consumer").string());
  REQUIRE_MESSAGE(rc == 0, out);
  std::tie(rc, out) = shell((dir / "consumer" / "consumer").string());
  CHECK(rc == 0);
  // Llama-3-8B, batch 1, 4096-token prompt on the pure H100 roofline
  CHECK(out.rfind("llama3_8b on H100 SXM: TTFT ", 0) == 0);
  CHECK(out.find("memory-bound decode, 8030261248 parameters") != std::string::npos);
  CHECK(out.find("JSON report of ") != std::string::npos);
  SUBCASE("the installed roofline command reads the installed specs and profiles by default") {
    const std::string bin = dest + "/usr/local/bin/roofline";
    REQUIRE(fs::exists(bin));
    std::tie(rc, out) = shell(bin + " --help");
    CHECK(rc == 0);
    CHECK(out.find("estimate") != std::string::npos);
    CHECK(out.find(dest + "/usr/local/share/roofline") != std::string::npos);
    std::tie(rc, out) = shell(bin + " estimate --batch 1 --prefill 128 --generate 8");
    CHECK(rc == 0);
    CHECK(out.rfind("xlstm_7b (xlstm, 6.865 billion parameters) on NVIDIA H100 SXM5 80GB", 0) == 0);
    // the data it found is the installed copy: a profile removed from the source tree would not matter
    std::tie(rc, out) =
        shell(bin + " estimate --model " + dest +
              "/usr/local/share/roofline/model_specs/gpt_oss_120b.yaml --prefill 4096 --generate 256 "
              "--batch 1");
    CHECK(rc == 0);
    CHECK(out.find("capacity 80 GB: fits") != std::string::npos);
  }
  fs::remove_all(dir);
}
