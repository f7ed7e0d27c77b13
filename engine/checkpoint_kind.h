// The one check every checkpoint loader makes before reading weights: the file's "model" metadata names
// the kind the loader builds (every writer in this project records it), and the configuration values
// the loader needs are present and readable. Each failure is one line naming the file.
#pragma once
#include <map>
#include <string>

using CheckpointMeta = std::map<std::string, std::string>;

// Throws std::runtime_error "<path>: is a '<found>' checkpoint, not <what>" (or "...: has no 'model'
// metadata, so it is not <what>") unless meta["model"] == kind. what: "a CVAE", "an MAE", ...; hint,
// when not empty, is appended ("train one with sa_judge").
void check_checkpoint_kind(const CheckpointMeta& meta, const std::string& kind, const std::string& what,
                           const std::string& path, const std::string& hint = "");
// meta[key] as a whole-string integer; throws "<path>: metadata <key> is missing" or "... is not an
// integer ('x')".
int checkpoint_int(const CheckpointMeta& meta, const std::string& key, const std::string& path);
