// Writing a whole result file (CSV, Markdown, PNG bytes) with every failure reported: a full disk, a
// quota or a broken mount shows up at fwrite, fflush or fclose, and a result that silently stopped
// half-way would read as a complete one.
#pragma once
#include <string>

// Writes contents to path (created or truncated). Throws std::runtime_error "cannot write <path>: <why>"
// when the file cannot be created, written, flushed or closed; a partly written file is removed.
void write_file(const std::string& path, const std::string& contents);
