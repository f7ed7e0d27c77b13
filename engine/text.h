// Whole-string parsing of numbers and digit lists, shared by the command line, config files and the
// metadata of checkpoints (so "8abc" is refused everywhere, not only on the command line).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

// Whole-string integer parse: no leading blanks, no trailing junk ("5x"), no overflow.
bool parse_integer(const std::string& s, int64_t* out);
// Whole-string finite real parse ("nan" and "inf" are refused: no flag wants them).
bool parse_real(const std::string& s, double* out);
// s without leading and trailing blanks, tabs and carriage returns.
std::string trim(const std::string& s);
// Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF): names
// read from files must print as what they are.
bool valid_utf8(const std::string& s);

// "0,1" -> {0,1} (in the given order; spaces around items allowed). Throws on an empty list, a
// non-integer ("x", "1.5"), a digit outside 0..nclass-1, a duplicate, or all nclass digits
// ("you cannot forget every digit").
std::vector<int> parse_digit_list(const std::string& s, int nclass = 10);
// The digits 0..nclass-1 that are not in `digits`, in ascending order (the remembered classes of a
// forget list; every digit for an empty list).
std::vector<int> other_digits(const std::vector<int>& digits, int nclass = 10);
