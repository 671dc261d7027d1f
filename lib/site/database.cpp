#include "site/database.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/url.hpp"

#include <algorithm>
#include <limits>
#include <regex>
#include <vector>

#include <spdlog/spdlog.h>

namespace geo_ssf {

std::string redact_passwords(const std::string& text) {
    static const std::regex keyword_password("(password\\s*=\\s*)('([^'\\\\]|\\\\.)*'|[^\\s]*)", std::regex::icase);
    return std::regex_replace(redact_url_credentials(text), keyword_password, "$1***");
}

namespace {

// The passwords CONNINFO holds, as written and as libpq would read them.
std::vector<std::string> passwords_in(const std::string& conninfo) {
    std::vector<std::string> out;
    bool uri = conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
    if (uri) {
        if (auto span = credentials_in(conninfo).password) {
            std::string password = conninfo.substr(span->begin, span->size());
            out.push_back(password);
            out.push_back(percent_decoded(password));
            // libpq ends the user information at the first '@': what follows it is taken for
            // a host name and quoted as one.
            for (size_t sign = password.find('@'); sign != std::string::npos; sign = password.find('@', sign + 1)) {
                out.push_back(password.substr(0, sign));
                out.push_back(password.substr(sign + 1) + "@");
            }
        }
        size_t query = conninfo.find('?');
        for (size_t key = conninfo.find("password=", query); query != std::string::npos && key != std::string::npos;
             key = conninfo.find("password=", key + 1)) {
            size_t value = key + 9;
            std::string password = conninfo.substr(value, conninfo.find('&', value) - value);
            out.push_back(password);
            out.push_back(percent_decoded(password));
        }
        return out;
    }
    static const std::regex keyword("password\\s*=\\s*('(([^'\\\\]|\\\\.)*)'?|[^\\s]*)", std::regex::icase);
    for (auto it = std::sregex_iterator(conninfo.begin(), conninfo.end(), keyword); it != std::sregex_iterator(); ++it) {
        std::string value = (*it)[1].str();
        out.push_back(value);
        if (!value.empty() && value.front() == '\'') {
            std::string unquoted;
            for (size_t i = 1; i < value.size() && value[i] != '\''; ++i) {
                if (value[i] == '\\' && i + 1 < value.size())
                    ++i;
                unquoted += value[i];
            }
            out.push_back(unquoted);
        }
    }
    return out;
}

void replace_all(std::string& text, const std::string& piece, const std::string& with) {
    for (size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at + with.size()))
        text.replace(at, piece.size(), with);
}

}  // namespace

std::string redact_passwords(const std::string& text, const std::string& conninfo) {
    std::string out = text;
    auto secrets = passwords_in(conninfo);
    // Longest first, so that a password is replaced whole before any piece of it.
    std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& secret : secrets) {
        bool ends_at_sign = !secret.empty() && secret.back() == '@';
        if (secret.size() < (ends_at_sign ? 2u : 3u))
            continue;  // too short to find safely: the patterns below still apply
        replace_all(out, secret, ends_at_sign ? "***@" : "***");
    }
    return redact_passwords(out);
}

std::string describe_database_error(const std::exception& e) {
    std::string message = redact_passwords(first_line(e.what()));
    if (message.rfind("ERROR:  ", 0) == 0)
        message = message.substr(8);
    return message;
}

DatabaseError database_error(const pqxx::failure& e) {
    if (dynamic_cast<const pqxx::broken_connection*>(&e))
        return DatabaseError("lost the connection to the database: " + describe_database_error(e));
    return DatabaseError("database query failed: " + describe_database_error(e));
}

bool NoticeLog::operator()(const char message[]) noexcept {
    try {
        std::string text(message);
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        spdlog::debug("{} database: {}", m_label, text);
    } catch (...) {
    }
    return true;
}

void set_up_session(pqxx::connection& connection, Access access) {
    pqxx::nontransaction setup(connection);
    setup.exec("SET application_name = 'geo-ssf'");
    if (access == Access::read_only)
        setup.exec("SET default_transaction_read_only = on");
}

void allow_writes(pqxx::connection& connection) {
    pqxx::nontransaction setup(connection);
    setup.exec("SET default_transaction_read_only = off");
}

std::unique_ptr<pqxx::connection> connect_database(const std::string& conninfo, std::string_view label,
                                                   Access access) {
    std::unique_ptr<pqxx::connection> connection;
    try {
        connection = std::make_unique<pqxx::connection>(conninfo);
        set_up_session(*connection, access);
    } catch (const pqxx::broken_connection& e) {
        throw DatabaseError("cannot connect to the " + std::string(label) +
                            " database: " + redact_passwords(describe_database_error(e), conninfo));
    } catch (const pqxx::failure& e) {
        throw DatabaseError("cannot use the " + std::string(label) +
                            " database: " + redact_passwords(describe_database_error(e), conninfo));
    } catch (const std::invalid_argument& e) {
        throw DatabaseError("cannot connect to the " + std::string(label) +
                            " database: " + redact_passwords(first_line(e.what()), conninfo));
    }
    return connection;
}

}  // namespace geo_ssf
