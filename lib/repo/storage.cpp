#include "repo/storage.hpp"

#include "common/error.hpp"

namespace geo_ssf {

std::filesystem::path repository_location(const std::filesystem::path& root, const std::string& relative) {
    auto refuse = [&](const std::string& why) -> std::filesystem::path {
        throw RuntimeError("repository path \"" + printable(relative) + "\" is refused: " + why);
    };
    if (relative.empty())
        return refuse("it is empty");
    if (relative.find('\0') != std::string::npos)
        return refuse("it contains a NUL byte");
    if (relative.front() == '/')
        return refuse("it is absolute; it must be relative to the storage root");
    if (relative.back() == '/')
        return refuse("it ends with '/'");
    if (relative.find("//") != std::string::npos)
        return refuse("it has an empty segment");
    std::filesystem::path rel(relative);
    for (const auto& part : rel)
        if (part == ".." || part == ".")
            return refuse("it has a '" + part.string() + "' segment");

    std::filesystem::path location = root / rel;
    // Resolve the longest existing prefix: a symbolic link anywhere on the way must stay inside.
    std::error_code ec;
    std::filesystem::path real_root = std::filesystem::canonical(root, ec);
    if (ec)
        throw RuntimeError("storage root " + root.string() + " is not usable: " + ec.message());
    std::filesystem::path existing = location;
    while (!std::filesystem::exists(std::filesystem::symlink_status(existing, ec)) && existing != root)
        existing = existing.parent_path();
    std::filesystem::path real = std::filesystem::weakly_canonical(existing, ec);
    if (ec)
        return refuse(ec.message());
    auto inside = real.lexically_relative(real_root);
    if (inside.empty() || *inside.begin() == "..")
        return refuse("it leads outside the storage root through a symbolic link");
    return location;
}

}  // namespace geo_ssf
