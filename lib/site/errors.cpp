#include "site/errors.hpp"

#include "site/database.hpp"
#include "site/site.hpp"

#include <pqxx/pqxx>

#include <filesystem>
#include <new>
#include <optional>
#include <string>

namespace geo_ssf {

namespace {

// "PATH: REASON", or "PATH1, PATH2: REASON" for the operations on two paths (rename, copy). Without
// a path, libstdc++'s own text, which names the operation.
std::string describe_filesystem_error(const std::filesystem::filesystem_error& e) {
    if (e.path1().empty())
        return e.what();
    // A control character in a path would break the one-line message.
    std::string paths = printable(e.path1().string(), std::string::npos);
    if (!e.path2().empty())
        paths += ", " + printable(e.path2().string(), std::string::npos);
    return paths + ": " + e.code().message();
}

}  // namespace

Error translated_error(const std::exception_ptr& exception, const Site* site) {
    try {
        std::rethrow_exception(exception);
    } catch (const Error& e) {
        return e;
    } catch (const pqxx::failure& e) {
        // A statement cut short by the server going away fails as a statement, on a connection
        // libpq has marked lost: that is a lost connection too.
        if (auto lost = site ? site->lost_connection_error(e) : std::nullopt)
            return *lost;
        return database_error(e);
    } catch (const std::filesystem::filesystem_error& e) {
        return RuntimeError(describe_filesystem_error(e));
    } catch (const std::bad_alloc&) {
        return RuntimeError("out of memory");
    } catch (const std::exception& e) {
        return RuntimeError(e.what());
    } catch (...) {
        return RuntimeError("unknown error");
    }
}

}  // namespace geo_ssf
