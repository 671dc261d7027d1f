// geo-ssf completion bash|zsh|fish: a shell completion script made from the command table, so
// that it names every command and option this build has. Hidden; the build runs it to make the
// installed scripts. Replicable names come from 'geo-ssf replicables --names' as one types.
#include "command.hpp"
#include "common/error.hpp"
#include "common/shell_quoted.hpp"
#include "db/states.hpp"

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct OptionWords {
    std::vector<std::string> names;  // "-c", "--config"
    std::string help;
    bool takes_value = false;
    bool files = false;              // its value is a path
    std::vector<std::string> words;  // the values it accepts, when they are a fixed list
};

struct CommandWords {
    std::string name;
    std::string help;  // the first sentence of its description
    bool hidden = false;
    std::vector<OptionWords> options;
    std::vector<std::string> words;  // fixed words its arguments take (help: the commands)
    bool replicables = false;        // an argument names a replicable
    bool files = false;              // an argument is a path
};

std::vector<std::string> sync_state_words() {
    std::vector<std::string> words;
    for (SyncState state : k_sync_states)
        words.push_back(sync_state_name(state));
    return words;
}

std::vector<std::string> verification_state_words() {
    std::vector<std::string> words;
    for (VerificationState state : k_verification_states) {
        std::string name = verification_state_name(state);
        words.push_back(name.substr(name.find('_') + 1));  // list also takes "verification_failed"
    }
    return words;
}

// The words of an IsMember check, which CLI11 shows in the type name: "TEXT:{table,json}".
std::vector<std::string> member_words(const CLI::Option& option) {
    std::string type = option.get_type_name();
    auto open = type.find('{'), close = type.find('}');
    std::vector<std::string> words;
    if (open == std::string::npos || close == std::string::npos || close < open)
        return words;
    std::stringstream list(type.substr(open + 1, close - open - 1));
    for (std::string word; std::getline(list, word, ',');)
        words.push_back(word);
    return words;
}

std::string first_sentence(const std::string& text) {
    auto end = text.find(". ");
    std::string sentence = text.substr(0, end);
    if (!sentence.empty() && sentence.back() == '.')
        sentence.pop_back();
    return sentence;
}

std::vector<OptionWords> option_words(const CLI::App& app) {
    std::vector<OptionWords> options;
    for (const CLI::Option* option : app.get_options()) {
        if (!option->nonpositional())
            continue;
        OptionWords o;
        for (const auto& name : option->get_snames())
            o.names.push_back("-" + name);
        for (const auto& name : option->get_lnames())
            o.names.push_back("--" + name);
        o.help = first_sentence(option->get_description());
        o.takes_value = !option->get_type_name().empty();  // flags have no type
        if (!option->get_lnames().empty() && option->get_lnames().front() == "sync-state")
            o.words = sync_state_words();
        else if (!option->get_lnames().empty() && option->get_lnames().front() == "verification-state")
            o.words = verification_state_words();
        else if (o.takes_value)
            o.words = member_words(*option);
        o.files = o.takes_value && o.words.empty() && option->get_type_name().rfind("TEXT", 0) == 0;
        options.push_back(std::move(o));
    }
    return options;
}

struct Table {
    std::vector<OptionWords> global;
    std::vector<CommandWords> commands;
};

Table command_table(const CLI::App& top) {
    Table table;
    table.global = option_words(top);
    std::vector<std::string> visible;
    for (const CLI::App* sub : top.get_subcommands([](const CLI::App*) { return true; })) {
        CommandWords c;
        c.name = sub->get_name();
        c.help = first_sentence(sub->get_description());
        c.hidden = sub->get_group().empty();
        c.options = option_words(*sub);
        for (const CLI::Option* positional : sub->get_options()) {
            if (positional->nonpositional())
                continue;
            const std::string& name = positional->get_name();
            if (name == "replicable")
                c.replicables = true;
            else if (name == "path")
                c.files = true;
            for (auto& word : member_words(*positional))
                c.words.push_back(word);
        }
        if (!c.hidden)
            visible.push_back(c.name);
        table.commands.push_back(std::move(c));
    }
    for (auto& c : table.commands)
        if (c.name == "help")
            c.words = visible;
    return table;
}

std::string joined(const std::vector<std::string>& words, const char* separator = " ") {
    std::string text;
    for (const auto& word : words)
        text += (text.empty() ? "" : separator) + word;
    return text;
}

std::vector<std::string> all_names(const std::vector<OptionWords>& options) {
    std::vector<std::string> names;
    for (const auto& o : options)
        names.insert(names.end(), o.names.begin(), o.names.end());
    return names;
}

std::vector<std::string> visible_commands(const Table& table) {
    std::vector<std::string> names;
    for (const auto& c : table.commands)
        if (!c.hidden)
            names.push_back(c.name);
    return names;
}

// Options taking a value, as "case" patterns: "-c | --config".
std::string pattern(const OptionWords& o, const char* separator) { return joined(o.names, separator); }

std::string bash_script(const Table& table) {
    std::ostringstream out;
    out << R"SH(# bash completion for geo-ssf(1). Generated by 'geo-ssf completion bash': do not edit.

_geo_ssf_replicables() {
    geo-ssf "$@" replicables --names 2>/dev/null
}

_geo_ssf() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local command= i
    local -a config=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -c | --config)
                config=(--config "${COMP_WORDS[i + 1]}")
                ((i++)) ;;
)SH";
    for (const auto& o : table.global)
        if (o.takes_value && o.names.front() != "-c")
            out << "            " << pattern(o, " | ") << ") ((i++)) ;;\n";
    out << R"SH(            -*) ;;
            *) [[ -z $command ]] && command=${COMP_WORDS[i]} ;;
        esac
    done
    case $command:$prev in
)SH";
    auto value_case = [&](const std::string& command, const OptionWords& o) {
        if (!o.takes_value || (o.words.empty() && !o.files))
            return;
        std::string patterns;
        for (const auto& name : o.names)
            patterns += (patterns.empty() ? "" : " | ") + command + ":" + name;
        if (o.files)
            out << "        " << patterns << ")\n            compopt -o filenames 2>/dev/null\n"
                << "            COMPREPLY=($(compgen -f -- \"$cur\"))\n            return 0 ;;\n";
        else
            out << "        " << patterns << ")\n            COMPREPLY=($(compgen -W " << shell_quoted(joined(o.words))
                << " -- \"$cur\"))\n            return 0 ;;\n";
    };
    for (const auto& o : table.global)
        value_case("", o);
    for (const auto& c : table.commands)
        for (const auto& o : c.options)
            value_case(c.name, o);
    out << R"SH(    esac
    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W )SH" << shell_quoted(joined(all_names(table.global))) << R"SH( -- "$cur"))
        else
            COMPREPLY=($(compgen -W )SH" << shell_quoted(joined(visible_commands(table))) << R"SH( -- "$cur"))
        fi
        return 0
    fi
    local options= words= replicables= files=
    case $command in
)SH";
    for (const auto& c : table.commands) {
        out << "        " << c.name << ")\n            options=" << shell_quoted(joined(all_names(c.options)));
        if (!c.words.empty())
            out << "\n            words=" << shell_quoted(joined(c.words));
        if (c.replicables)
            out << "\n            replicables=1";
        if (c.files)
            out << "\n            files=1";
        out << " ;;\n";
    }
    out << R"SH(        *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return 0
    fi
    if [[ -n $files ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
    fi
    [[ -n $replicables ]] && words+=" $(_geo_ssf_replicables "${config[@]}")"
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return 0
}

complete -F _geo_ssf geo-ssf
)SH";
    return out.str();
}

std::string zsh_script(const Table& table) {
    std::ostringstream out;
    out << R"SH(#compdef geo-ssf
# zsh completion for geo-ssf(1). Generated by 'geo-ssf completion zsh': do not edit.

_geo_ssf() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
    local command= i
    local -a config
    for ((i = 2; i < CURRENT; i++)); do
        case ${words[i]} in
            (-c|--config) config=(--config ${words[i+1]}); ((i++)) ;;
)SH";
    for (const auto& o : table.global)
        if (o.takes_value && o.names.front() != "-c")
            out << "            (" << pattern(o, "|") << ") ((i++)) ;;\n";
    out << R"SH(            (-*) ;;
            (*) [[ -z $command ]] && command=${words[i]} ;;
        esac
    done
    case $command:$prev in
)SH";
    auto value_case = [&](const std::string& command, const OptionWords& o) {
        if (!o.takes_value || (o.words.empty() && !o.files))
            return;
        std::string patterns;
        for (const auto& name : o.names)
            patterns += (patterns.empty() ? "" : "|") + command + ":" + name;
        out << "        (" << patterns << ") "
            << (o.files ? std::string("_files") : "compadd -- " + joined(o.words)) << "; return ;;\n";
    };
    for (const auto& o : table.global)
        value_case("", o);
    for (const auto& c : table.commands)
        for (const auto& o : c.options)
            value_case(c.name, o);
    out << R"SH(    esac
    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            compadd -- )SH" << joined(all_names(table.global)) << R"SH(
        else
            local -a commands
            commands=(
)SH";
    for (const auto& c : table.commands)
        if (!c.hidden)
            out << "                " << shell_quoted(c.name + ":" + c.help) << "\n";
    out << R"SH(            )
            _describe -t commands 'geo-ssf command' commands
        fi
        return
    fi
    local -a options values
    local replicables=0 files=0
    case $command in
)SH";
    for (const auto& c : table.commands) {
        out << "        (" << c.name << ") options=(" << joined(all_names(c.options)) << ")";
        if (!c.words.empty())
            out << "; values=(" << joined(c.words) << ")";
        if (c.replicables)
            out << "; replicables=1";
        if (c.files)
            out << "; files=1";
        out << " ;;\n";
    }
    out << R"SH(        (*) return 1 ;;
    esac
    if [[ $cur == -* ]]; then
        compadd -- $options
        return
    fi
    if (( files )); then
        _files
        return
    fi
    (( replicables )) && values+=(${(f)"$(geo-ssf $config replicables --names 2>/dev/null)"})
    compadd -- $values
}

_geo_ssf "$@"
)SH";
    return out.str();
}

// Fish quotes: ' and \ are escaped inside single quotes.
std::string fish_quoted(const std::string& text) {
    std::string out = "'";
    for (char ch : text) {
        if (ch == '\'' || ch == '\\')
            out += '\\';
        out += ch;
    }
    return out + "'";
}

std::string fish_option(const OptionWords& o) {
    std::string line;
    for (const auto& name : o.names)
        line += name.rfind("--", 0) == 0 ? " -l " + name.substr(2) : " -s " + name.substr(1);
    if (o.files)
        line += " -r -F";
    else if (o.takes_value)
        line += " -x";
    if (!o.words.empty())
        line += " -a " + fish_quoted(joined(o.words));
    if (!o.help.empty())
        line += " -d " + fish_quoted(o.help);
    return line;
}

std::string fish_script(const Table& table) {
    std::ostringstream out;
    std::string commands = joined(visible_commands(table));
    out << R"SH(# fish completion for geo-ssf(1). Generated by 'geo-ssf completion fish': do not edit.

function __geo_ssf_config
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        if contains -- $tokens[$i] -c --config; and test $i -lt (count $tokens)
            echo --config
            echo $tokens[(math $i + 1)]
        end
    end
end

function __geo_ssf_replicables
    geo-ssf (__geo_ssf_config) replicables --names 2>/dev/null
end

complete -c geo-ssf -f
)SH";
    std::string no_command = " -n " + fish_quoted("not __fish_seen_subcommand_from " + commands);
    for (const auto& o : table.global)
        out << "complete -c geo-ssf" << no_command << fish_option(o) << "\n";
    for (const auto& c : table.commands)
        if (!c.hidden)
            out << "complete -c geo-ssf" << no_command << " -a " << c.name << " -d " << fish_quoted(c.help) << "\n";
    for (const auto& c : table.commands) {
        std::string seen = " -n " + fish_quoted("__fish_seen_subcommand_from " + c.name);
        for (const auto& o : c.options)
            out << "complete -c geo-ssf" << seen << fish_option(o) << "\n";
        if (!c.words.empty())
            out << "complete -c geo-ssf" << seen << " -a " << fish_quoted(joined(c.words)) << "\n";
        if (c.replicables)
            out << "complete -c geo-ssf" << seen << " -a '(__geo_ssf_replicables)'\n";
        if (c.files)
            out << "complete -c geo-ssf" << seen << " -F\n";
    }
    return out.str();
}

}  // namespace

Runner define_completion(CLI::App& app) {
    auto shell = std::make_shared<std::string>();
    app.description("Print a completion script for SHELL: bash, zsh or fish.");
    app.group("");  // hidden: packages install the scripts
    app.add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
    app.footer(R"(Examples:
  source <(geo-ssf completion bash)
  geo-ssf completion zsh >~/.zfunc/_geo-ssf
  geo-ssf completion fish >~/.config/fish/completions/geo-ssf.fish)");

    const CLI::App* top = app.get_parent();
    return [shell, top](Invocation&) {
        Table table = command_table(*top);
        if (*shell == "bash")
            std::cout << bash_script(table);
        else if (*shell == "zsh")
            std::cout << zsh_script(table);
        else
            std::cout << fish_script(table);
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
