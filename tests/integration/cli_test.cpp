// The command line as users and scripts meet it: help, bad input, exit statuses.
#include "one_line_error.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace geo_ssf::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

std::string binary() { return std::getenv("GEO_SSF_BINARY"); }

// What the bash completion script offers for WORDS, the last one being completed; ENV is added
// to the environment (PATH must lead to geo-ssf for replicable names).
std::string bash_completion(const std::filesystem::path& script, const std::string& words,
                            const RunOptions& options = {}) {
    std::string line = "source '" + script.string() + "'; COMP_WORDS=(" + words +
                       "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _geo_ssf; echo \"${COMPREPLY[*]}\"";
    RunResult r = run_program("bash", {"--norc", "-c", line}, options);
    CAPTURE(words);
    CAPTURE(r.err);
    CHECK(r.status == 0);
    return r.out.empty() ? r.out : r.out.substr(0, r.out.size() - 1);
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("cli: --help on every command, with examples") {
    RunResult top = run_geo_ssf({"--help"});
    CHECK(top.status == 0);
    for (const char* command : {"generate", "migrate", "replicables", "check"}) {
        CAPTURE(command);
        CHECK(top.out.find(command) != std::string::npos);
        RunResult r = run_geo_ssf({command, "--help"});
        CHECK(r.status == 0);
        CHECK(r.out.find("Examples:") != std::string::npos);
        CHECK(r.out.find(std::string("geo-ssf ") + command) != std::string::npos);
    }
}

TEST_CASE("cli: --help lists each command on one line, as git does") {
    RunResult top = run_geo_ssf({"--help"});
    REQUIRE(top.status == 0);
    std::vector<std::string> lines = lines_of(top.out);
    auto start = std::find(lines.begin(), lines.end(), "Commands:");
    REQUIRE(start != lines.end());
    size_t commands = 0;
    for (auto it = start + 1; it != lines.end() && !it->empty(); ++it, ++commands) {
        CAPTURE(*it);
        CHECK(it->rfind("  ", 0) == 0);  // a command and its summary, no wrapped paragraph
        CHECK(it->size() <= 100);
        CHECK(it->find(". ") == std::string::npos);
    }
    CHECK(commands >= 14);
    CHECK(top.out.find("  completion") == std::string::npos);  // hidden
    // A command's own --help keeps its whole description.
    RunResult status = run_geo_ssf({"status", "--help"});
    CHECK(status.out.find("status.timeout") != std::string::npos);
}

TEST_CASE("cli: global options are taken after the command too") {
    TempDir dir;
    RepositoryFactory factory(dir.path());
    factory.create(dir.path(), "one.git", 1);
    // -q and --log-format after the command, even after its arguments, as before it.
    RunResult quiet = run_geo_ssf({"checksum", (dir / "one.git").string(), (dir / "missing.git").string(), "-q",
                                   "--log-format", "json"});
    CHECK(quiet.status == 1);
    CHECK(quiet.out.find("one.git") != std::string::npos);
    nlohmann::json line = nlohmann::json::parse(quiet.err);
    CHECK(line["level"] == "error");
    RunResult verbose = run_geo_ssf({"checksum", (dir / "one.git").string(), "-v"});
    CHECK(verbose.status == 0);
    CHECK(verbose.err.find("checksum finished with exit status 0") != std::string::npos);
}

TEST_CASE("cli: the quickstart prints each command as a user would type it") {
    const char* root = std::getenv("GEO_SSF_SOURCE_ROOT");
    REQUIRE(root);
    std::string steps = read_file(std::filesystem::path(root) / "scripts/quickstart-steps.sh");
    // `run WORD ...` prints "$ WORD ..." and runs it: WORD must be a program, never one of the
    // script's shell functions, which a reader copying the line would not have.
    std::set<std::string> functions;
    static const std::regex function(R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{)");
    static const std::regex run_line(R"(^\s*run\s+(\S+))");
    std::vector<std::string> programs;
    for (const auto& line : lines_of(steps)) {
        std::smatch m;
        if (std::regex_search(line, m, function))
            functions.insert(m[1]);
        else if (std::regex_search(line, m, run_line))
            programs.push_back(m[1]);
    }
    REQUIRE(programs.size() > 10);
    for (const auto& program : programs) {
        CAPTURE(program);
        CHECK(functions.count(program) == 0);
    }
    CHECK(std::count(programs.begin(), programs.end(), "geo-ssf") > 10);
}

TEST_CASE("cli: usage errors exit 2") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    check_one_line_error(run_geo_ssf({"frobnicate"}, in_dir), 2, "unknown command 'frobnicate' (see 'geo-ssf --help')");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--bogus"}, in_dir), 2, "--bogus");
    check_one_line_error(run_geo_ssf({"generate", "widget", "CoolWidget"}, in_dir), 2, "replicable");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "Widget; DROP TABLE x"}, in_dir), 2, "';' is not allowed");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "Cool Widget!"}, in_dir), 2, "'!' is not allowed");
    check_one_line_error(run_geo_ssf({"generate", "replicable", ""}, in_dir), 2, "NAME is empty");
    check_one_line_error(run_geo_ssf({"generate", "replicable", std::string(60, 'a')}, in_dir), 2, "PostgreSQL keeps only 63");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--model-key", "Widget-Id"}, in_dir), 2,
                         "invalid --model-key \"Widget-Id\": expected a lower-case SQL identifier");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--model-key", "order"}, in_dir), 2,
                         "invalid --model-key \"order\": it is an SQL reserved word");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--scope", "a = 1\nOR true"}, in_dir), 2,
                         "invalid --scope: it may not contain control characters");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--repository-path", "../{id}"}, in_dir), 2,
                "invalid --repository-path");
    check_one_line_error(run_geo_ssf({"migrate", "--database", "both"}, in_dir), 2, "--database");
    CHECK_FALSE(std::filesystem::exists(dir / "replicables"));
    CHECK_FALSE(std::filesystem::exists(dir / "migrations"));
}

TEST_CASE("cli: configuration errors exit 3") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    check_one_line_error(run_geo_ssf({"replicables"}, in_dir), 3, "no config file");
    check_one_line_error(run_geo_ssf({"-c", (dir / "missing.yml").string(), "replicables"}), 3, "missing.yml: no such config file");
    write_file(dir / "bad.yml", "databases: [\n");
    check_one_line_error(run_geo_ssf({"-c", (dir / "bad.yml").string(), "replicables"}), 3, "invalid YAML");
    write_file(dir / "unknown.yml", "databases: {main: x}\nstorage: {root: r}\nsite: {nmae: x}\n");
    check_one_line_error(run_geo_ssf({"-c", (dir / "unknown.yml").string(), "replicables"}), 3, "site.nmae: unknown key");
    RunOptions with_env{dir.path(), {{"GEO_SSF_CONFIG", (dir / "bad.yml").string()}}, {}};
    check_one_line_error(run_geo_ssf({"migrate"}, with_env), 3, "bad.yml");
}

TEST_CASE("cli: an unreachable database exits 4") {
    TempDir dir;
    auto config = write_config(dir.path(), "primary", "host=127.0.0.1 port=1 dbname=none connect_timeout=5");
    check_one_line_error(run_geo_ssf({"-c", config.string(), "migrate"}), 4, "cannot connect to the main database");
}

TEST_CASE("cli: a command checks the migrations of the databases it uses, once its arguments are checked") {
    TempDir dir;
    TestDatabase main_db, geo_db;
    auto primary = write_config(dir.path(), "primary", main_db.conninfo());
    REQUIRE(run_geo_ssf({"-c", primary.string(), "generate", "replicable", "CoolWidget"}).status == 0);
    auto secondary = write_config(dir / "secondary", "secondary", main_db.conninfo(), geo_db.conninfo(),
                                  "replicables: ../replicables\nmigrations: ../migrations\n");
    auto on = [](const std::filesystem::path& config, std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", config.string()});
        return args;
    };
    auto check_pending = [](const std::vector<std::string>& args, const std::string& database, const std::string& where) {
        RunResult r = run_geo_ssf(args);
        CAPTURE(args[2]);
        check_one_line_error(r, 3, "");
        CHECK(std::regex_match(r.err, std::regex("geo-ssf: error: the " + database + R"( database has \d+ pending )" +
                                                 R"(migration\(s\), the first \d{14}_\w+; run 'geo-ssf migrate')" +
                                                 where + "\n")));
    };

    // Nothing migrated: a secondary names its tracking database first.
    for (const auto& args : {on(primary, {"verify"}), on(primary, {"status"}), on(primary, {"show", "cool_widget", "1"}),
                             on(primary, {"reverify", "cool_widget", "1"}),
                             on(primary, {"event", "cool_widget", "created", "1"})})
        check_pending(args, "main", "");
    for (const auto& args : {on(secondary, {"sync"}), on(secondary, {"status"}), on(secondary, {"verify"}),
                             on(secondary, {"show", "cool_widget", "1"}), on(secondary, {"resync", "cool_widget", "1"}),
                             on(secondary, {"reverify", "cool_widget", "1"})})
        check_pending(args, "geo", "");
    // Bad arguments are found before any database is.
    check_one_line_error(run_geo_ssf(on(primary, {"show", "cool_widget", "x"})), 2, "\"x\"");
    check_one_line_error(run_geo_ssf(on(primary, {"event", "gadget", "created", "1"})), 2, "unknown replicable \"gadget\"");
    check_one_line_error(run_geo_ssf(on(primary, {"reverify", "cool_widget"})), 2, "give either record IDs");
    check_one_line_error(run_geo_ssf(on(primary, {"verify", "--max-runtime", "soon"})), 2, "invalid --max-runtime");
    check_one_line_error(run_geo_ssf(on(primary, {"status", "gadget"})), 2, "unknown replicable \"gadget\"");
    check_one_line_error(run_geo_ssf(on(secondary, {"sync", "--max-runtime", "soon"})), 2, "invalid --max-runtime");
    check_one_line_error(run_geo_ssf(on(secondary, {"resync", "cool_widget", "--all", "--now"})), 2,
                         "--all --now needs --limit");

    // The tracking database migrated: sync and status, which also read the primary's, name that one.
    REQUIRE(run_geo_ssf(on(secondary, {"migrate"})).status == 0);
    check_pending(on(secondary, {"sync"}), "main", " on the primary");
    check_pending(on(secondary, {"status"}), "main", " on the primary");

    main_db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY)");
    REQUIRE(run_geo_ssf(on(primary, {"migrate"})).status == 0);
    RunResult verify = run_geo_ssf(on(primary, {"verify"}));
    CAPTURE(verify.err);
    CHECK(verify.status == 0);
}

TEST_CASE("cli: replicables lists the types") {
    TempDir dir;
    auto config = write_config(dir.path(), "primary", "dbname=unused");
    REQUIRE(run_geo_ssf({"-c", config.string(), "generate", "replicable", "CoolWidget"}).status == 0);
    REQUIRE(run_geo_ssf({"-c", config.string(), "generate", "replicable", "SnippetRepository", "--model-key",
                         "snippet_id"})
                .status == 0);
    RunResult r = run_geo_ssf({"-c", config.string(), "replicables"});
    CHECK(r.status == 0);
    CHECK(r.out.find("NAME") == 0);
    CHECK(r.out.find("cool_widget  ") != std::string::npos);
    CHECK(r.out.find("snippet_repository_registry") != std::string::npos);
    RunResult json = run_geo_ssf({"-c", config.string(), "replicables", "--format", "json"});
    CHECK(json.status == 0);
    CHECK(json.out.find("\"registry_table\": \"snippet_repository_registry\"") != std::string::npos);
    CHECK(json.out.find("\"model_key\": \"snippet_id\"") != std::string::npos);
    CHECK(json.out.find("\"model_key\": \"id\"") != std::string::npos);
}

TEST_CASE("cli: geo-ssf alone prints the usage on stderr and exits 2") {
    TempDir dir;
    for (const auto& args : {std::vector<std::string>{}, std::vector<std::string>{"-v"}}) {
        RunResult r = run_geo_ssf(args, {dir.path(), {}, {}});
        CAPTURE(r.err);
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("Usage: geo-ssf") != std::string::npos);
        for (const char* command : {"status", "sync", "verify", "help"})
            CHECK(r.err.find(std::string("\n  ") + command + " ") != std::string::npos);
        CHECK(r.err.find("completion") == std::string::npos);  // hidden
    }
}

TEST_CASE("cli: did you mean, for mistyped commands and long options") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    check_one_line_error(run_geo_ssf({"stauts"}, in_dir), 2, "unknown command 'stauts' (did you mean 'status'?)");
    check_one_line_error(run_geo_ssf({"verfy"}, in_dir), 2, "(did you mean 'verify'?)");
    check_one_line_error(run_geo_ssf({"-v", "synk", "cool_widget"}, in_dir), 2, "unknown command 'synk' (did you mean 'sync'?)");
    check_one_line_error(run_geo_ssf({"verify", "--max-runtim", "5m"}, in_dir), 2,
                         "unknown option '--max-runtim' (did you mean '--max-runtime'?)");
    check_one_line_error(run_geo_ssf({"list", "cool_widget", "--sync-stat=failed"}, in_dir), 2,
                         "unknown option '--sync-stat' (did you mean '--sync-state'?)");
    check_one_line_error(run_geo_ssf({"--confg", "x.yml", "status"}, in_dir), 2,
                         "unknown option '--confg' (did you mean '--config'?)");
    check_one_line_error(run_geo_ssf({"--bogus"}, in_dir), 2, "unknown option '--bogus' (see 'geo-ssf --help')");
    check_one_line_error(run_geo_ssf({"help", "stauts"}, in_dir), 2, "unknown command 'stauts' (did you mean 'status'?)");
}

TEST_CASE("cli: help and help COMMAND") {
    TempDir dir;
    // No manual pages where man looks: the command's --help.
    std::filesystem::create_directories(dir / "empty/man1");
    RunOptions no_pages{dir.path(), {{"MANPATH", (dir / "empty").string()}}, {}};
    RunResult top = run_geo_ssf({"help"}, no_pages);
    CHECK(top.status == 0);
    CHECK(top.out == run_geo_ssf({"--help"}, no_pages).out);
    RunResult status = run_geo_ssf({"help", "status"}, no_pages);
    CHECK(status.status == 0);
    CHECK(status.err.empty());
    CHECK(status.out == run_geo_ssf({"status", "--help"}, no_pages).out);
    CHECK(status.out.find("Examples:") != std::string::npos);

    // The page installed: man shows it.
    std::filesystem::create_directories(dir / "man/man1");
    std::filesystem::copy_file(std::filesystem::path(std::getenv("GEO_SSF_BUILD_ROOT")) / "man/geo-ssf-status.1",
                               dir / "man/man1/geo-ssf-status.1");
    RunOptions with_page{dir.path(), {{"MANPATH", (dir / "man").string()}, {"MANPAGER", "cat"}, {"PAGER", "cat"}}, {}};
    RunResult page = run_geo_ssf({"help", "status"}, with_page);
    CAPTURE(page.err);
    CHECK(page.status == 0);
    CHECK(page.out.find("SYNOPSIS") != std::string::npos);
    CHECK(page.out.find("Examples:") == std::string::npos);
}

TEST_CASE("cli: --version names geo-ssf and its libraries") {
    RunResult r = run_geo_ssf({"--version"});
    CHECK(r.status == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 4);
    CHECK(std::regex_match(lines[0], std::regex(R"(geo-ssf \d+\.\d+\.\d+)")));
    CHECK(std::regex_match(lines[1], std::regex(R"(libgit2 \d+\.\d+\.\d+)")));
    CHECK(std::regex_match(lines[2], std::regex(R"(libpqxx \d+\.\d+\.\d+)")));
    CHECK(std::regex_match(lines[3], std::regex(R"(libpq \d+\.\d+(\.\d+)?)")));
}

TEST_CASE("cli: a reader that went away ends geo-ssf quietly, with the command's status") {
    // The reader (true) has exited before geo-ssf writes, so every write meets a closed pipe.
    RunResult r = run_program("sh", {"-c", "{ sleep 0.5; \"$0\" completion bash; echo \"status=$?\" >&2; } | true",
                                     binary()});
    CHECK(r.err == "status=0\n");
    // Any other write error is still one.
    RunResult full = run_program("sh", {"-c", "\"$0\" completion bash >/dev/full", binary()});
    CHECK(full.status == 5);
    CHECK(full.err.find("geo-ssf: error: cannot write the output") == 0);
}

TEST_CASE("cli: -q prints nothing on success, errors still go to stderr") {
    TestDatabase db;
    TempDir dir;
    auto config = write_config(dir.path(), "primary", db.conninfo());
    RunResult applied = run_geo_ssf({"-q", "-c", config.string(), "migrate"});
    CHECK(applied.status == 0);
    CHECK(applied.out.empty());
    CHECK(applied.err.empty());
    RunResult again = run_geo_ssf({"-q", "-c", config.string(), "migrate"});
    CHECK(again.status == 0);
    CHECK(again.out.empty());
    CHECK(run_geo_ssf({"-c", config.string(), "migrate"}).out == "main: no pending migrations\n");
    // Asked-for output still prints.
    CHECK(run_geo_ssf({"-q", "-c", config.string(), "migrate", "--status"}).out.find("applied") != std::string::npos);

    RunResult verify = run_geo_ssf({"-q", "-c", config.string(), "verify"});
    CHECK(verify.status == 0);
    CHECK(verify.out.empty());
    CHECK(run_geo_ssf({"-c", config.string(), "verify"}).out.find("verify: 0 claimed") == 0);
    check_one_line_error(run_geo_ssf({"-q", "-c", config.string(), "sync"}), 2, "runs on a secondary site");
}

TEST_CASE("cli: text logs start with the UTC time; JSON logs carry site, command and duration") {
    TestDatabase db;
    TempDir dir;
    auto config = write_config(dir.path(), "primary", db.conninfo());
    RunResult text = run_geo_ssf({"-v", "-c", config.string(), "migrate"});
    CHECK(text.status == 0);
    auto text_lines = lines_of(text.err);
    REQUIRE(!text_lines.empty());
    for (const auto& line : text_lines) {
        CAPTURE(line);
        CHECK(std::regex_search(line, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z geo-ssf: (info|debug|warning): )")));
    }
    CHECK(std::regex_search(text.err, std::regex(R"(geo-ssf: info: migrate finished with exit status 0 \(\d+ ms\))")));

    RunResult json = run_geo_ssf({"-v", "--log-format", "json", "-c", config.string(), "migrate"});
    CHECK(json.status == 0);
    auto json_lines = lines_of(json.err);
    REQUIRE(!json_lines.empty());
    bool finished = false;
    for (const auto& line : json_lines) {
        CAPTURE(line);
        auto record = nlohmann::json::parse(line);
        CHECK(record["site"] == "primary-site");
        CHECK(record["command"] == "migrate");
        CHECK(std::regex_match(record["time"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
        if (record["message"] == "migrate finished with exit status 0") {
            finished = true;
            CHECK(record["level"] == "info");
            CHECK(record["duration_ms"].is_number_integer());
        }
    }
    CHECK(finished);

    // The final error line is JSON too, with the exit status; nothing on stdout.
    RunResult failed = run_geo_ssf({"--log-format", "json", "-c", (dir / "missing.yml").string(), "replicables"});
    CHECK(failed.status == 3);
    CHECK(failed.out.empty());
    REQUIRE(lines_of(failed.err).size() == 1);
    auto error = nlohmann::json::parse(failed.err);
    CHECK(error["level"] == "error");
    CHECK(error["exit_status"] == 3);
    CHECK(error["message"].get<std::string>().find("no such config file") != std::string::npos);
    CHECK(error["command"] == "replicables");
    RunResult usage = run_geo_ssf({"--log-format", "json", "stauts"});
    CHECK(usage.status == 2);
    CHECK(nlohmann::json::parse(usage.err)["message"] == "unknown command 'stauts' (did you mean 'status'?)");
}

TEST_CASE("cli: bash completion of commands, options, replicable names and states") {
    TempDir dir;
    RunResult generated = run_geo_ssf({"completion", "bash"});
    REQUIRE(generated.status == 0);
    write_file(dir / "geo-ssf.bash", generated.out);
    // The build makes the installed script the same way.
    CHECK(read_file(std::filesystem::path(std::getenv("GEO_SSF_BUILD_ROOT")) / "contrib/completion/geo-ssf") ==
          generated.out);
    auto script = dir / "geo-ssf.bash";

    CHECK(bash_completion(script, "geo-ssf st") == "status");
    CHECK(bash_completion(script, "geo-ssf s") == "status show sync");
    CHECK(bash_completion(script, "geo-ssf co") == "");  // completion is hidden
    CHECK(bash_completion(script, "geo-ssf --log-format ''") == "text json");
    CHECK(bash_completion(script, "geo-ssf -q help re") == "replicables reverify resync");
    CHECK(bash_completion(script, "geo-ssf verify --max") == "--max-runtime");
    std::string list_options = bash_completion(script, "geo-ssf list cool_widget --");
    CHECK(list_options.find("--sync-state") != std::string::npos);
    CHECK(list_options.find("--verification-state") != std::string::npos);
    CHECK(list_options.find("--max-runtime") == std::string::npos);
    CHECK(bash_completion(script, "geo-ssf list cool_widget --sync-state ''") == "pending started synced failed");
    CHECK(bash_completion(script, "geo-ssf list cool_widget --verification-state ''") ==
          "pending started succeeded failed disabled");
    CHECK(bash_completion(script, "geo-ssf status --format p") == "prometheus");

    // Replicable names come from the configuration: -c FILE, or ./geo-ssf.yml.
    auto config = write_config(dir / "site", "primary", "dbname=unused");
    REQUIRE(run_geo_ssf({"-c", config.string(), "generate", "replicable", "CoolWidget"}).status == 0);
    REQUIRE(run_geo_ssf({"-c", config.string(), "generate", "replicable", "SnippetRepository"}).status == 0);
    std::string path = std::filesystem::path(binary()).parent_path().string() + ":" + std::getenv("PATH");
    RunOptions with_path{dir.path(), {{"PATH", path}}, {}};
    CHECK(bash_completion(script, "geo-ssf -c '" + config.string() + "' list ''", with_path) ==
          "cool_widget snippet_repository");
    CHECK(bash_completion(script, "geo-ssf -c '" + config.string() + "' sync s", with_path) == "snippet_repository");
    RunOptions in_site{dir / "site", {{"PATH", path}}, {}};
    CHECK(bash_completion(script, "geo-ssf resync c", in_site) == "cool_widget");
    CHECK(bash_completion(script, "geo-ssf resync c", with_path) == "");  // no config found: no names
    RunResult names = run_geo_ssf({"-c", config.string(), "replicables", "--names"});
    CHECK(names.out == "cool_widget\nsnippet_repository\n");
}

TEST_CASE("cli: zsh and fish completion scripts name the commands and options") {
    RunResult zsh = run_geo_ssf({"completion", "zsh"});
    CHECK(zsh.status == 0);
    CHECK(zsh.out.rfind("#compdef geo-ssf\n", 0) == 0);
    CHECK(zsh.out.find("'status:") != std::string::npos);
    CHECK(zsh.out.find("(list:--sync-state) compadd -- pending started synced failed") != std::string::npos);
    RunResult fish = run_geo_ssf({"completion", "fish"});
    CHECK(fish.status == 0);
    CHECK(fish.out.find("-a status -d ") != std::string::npos);
    CHECK(fish.out.find("'__fish_seen_subcommand_from list' -l sync-state -x -a 'pending started synced failed'") !=
          std::string::npos);
    check_one_line_error(run_geo_ssf({"completion", "tcsh"}), 2, "tcsh");
}

}
