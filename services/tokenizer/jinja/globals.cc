// The global functions every render has: range, namespace, raise_exception, strftime_now.
#include <algorithm>
#include <cmath>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/builtins.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {
namespace {

absl::StatusOr<Value> Range(CallContext& ctx, std::vector<Value>& args) {
  for (const Value& a : args) {
    if (!a.is_number() && !a.is_null() && !a.is_undefined()) {
      return ctx.Error(absl::StrCat("range() arguments must be numbers, got ", a.TypeName()));
    }
  }
  Value start = args.size() > 0 ? args[0] : Value();
  Value stop = args.size() > 1 ? args[1] : Value();
  Value step = args.size() > 2 ? args[2] : Value();
  if (stop.is_null() || stop.is_undefined()) {
    stop = start;
    start = Value::Int(0);
  }
  if (step.is_null() || step.is_undefined()) step = Value::Int(1);
  if (!start.is_number() || !stop.is_number()) return ctx.Error("range() needs numbers");
  const double a = start.as_double(), b = stop.as_double(), s = step.as_double();
  if (s == 0) return ctx.Error("range() arg 3 must not be zero");
  const double count = std::ceil((b - a) / s);  // NaN when an argument is NaN: no items.
  if (count > 0) RETURN_IF_ERROR(ctx.interp.Step(ctx.line, static_cast<int64_t>(std::min(count, 1e15))));
  std::vector<Value> out;
  if (start.is_int() && stop.is_int() && step.is_int()) {
    const int64_t stop_i = stop.as_int(), step_i = step.as_int();
    for (int64_t i = start.as_int(); step_i > 0 ? i < stop_i : i > stop_i;) {
      out.push_back(Value::Int(i));
      if (__builtin_add_overflow(i, step_i, &i)) break;
    }
    return Value::Array(std::move(out));
  }
  // Floats: the reference's repeated addition (so range(0, 1, 0.1) has 11 items, as in JS).
  for (double i = a; s > 0 ? i < b : i > b; i += s) {
    if (i + s == i) return ctx.Error("range() step is too small to make progress");
    RETURN_IF_ERROR(ctx.interp.Step(ctx.line));
    if (std::trunc(i) == i && std::fabs(i) < 9e15) {
      out.push_back(Value::Int(static_cast<int64_t>(i)));
    } else {
      out.push_back(Value::Float(i));
    }
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> Namespace(CallContext& ctx, std::vector<Value>& args) {
  size_t positional = args.size();
  const ObjectData* kwargs = nullptr;
  if (positional > 0 && args.back().is_kwargs()) {
    kwargs = &args.back().object();
    --positional;
  }
  if (positional > 1) {
    return ctx.Error(absl::StrCat("namespace expected at most 1 argument, got ", positional));
  }
  auto ns = std::make_shared<ObjectData>();
  if (positional == 1) {
    const Value& source = args[0];
    if (source.is_object()) {
      for (const auto& [k, v] : source.object().entries) ns->Set(k, v);
    } else if (source.is_array()) {
      for (const Value& pair : source.items()) {
        std::vector<Value> kv;
        if (pair.is_array()) {
          kv = pair.items();
        } else if (pair.is_string()) {
          for (size_t pos = 0; pos < pair.str().size();) {
            const size_t start = pos;
            NextCodePoint(pair.str(), &pos);
            kv.push_back(Value::String(pair.str().substr(start, pos - start)));
          }
        }
        if (kv.size() != 2) {
          return ctx.Error("namespace expected an object or an iterable of [key, value] pairs");
        }
        if (!kv[0].is_string()) return ctx.Error("namespace keys must be strings");
        ns->Set(kv[0].str(), kv[1]);
      }
    } else {
      return ctx.Error(absl::StrCat("'", source.TypeName(), "' object is not iterable"));
    }
  }
  if (kwargs != nullptr) {
    for (const auto& [k, v] : kwargs->entries) ns->Set(k, v);
  }
  ctx.interp.TrackNamespace(ns);
  return Value::Namespace(std::move(ns));
}

absl::StatusOr<Value> RaiseException(CallContext& ctx, std::vector<Value>& args) {
  std::string message;
  RETURN_IF_ERROR(AppendJsString(args.empty() ? Value() : args[0], message));
  return ctx.Error(absl::StrCat("raise_exception: ", message));
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The reference CLI's strftime (C locale) over the render's date.
absl::StatusOr<Value> StrftimeNow(CallContext& ctx, std::vector<Value>& args) {
  if (args.empty() || !args[0].is_string()) return ctx.Error("strftime_now() needs a format string");
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (const auto& fixed = ctx.interp.options().fixed_date) {
    year = fixed->year;
    month = fixed->month;
    day = fixed->day;
  } else {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    year = tm.tm_year + 1900;
    month = tm.tm_mon + 1;
    day = tm.tm_mday;
    hour = tm.tm_hour;
    minute = tm.tm_min;
    second = tm.tm_sec;
  }
  static const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday"};
  static const char* kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                                  "August", "September", "October", "November", "December"};
  const int64_t days = DaysFromCivil(year, month, day);
  const int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday.
  const int64_t yday = days - DaysFromCivil(year, 1, 1) + 1;
  auto pad = [](int64_t v, int width, char fill) {
    std::string s = std::to_string(v);
    if (static_cast<int>(s.size()) < width) s.insert(0, width - s.size(), fill);
    return s;
  };
  const std::string& fmt = args[0].str();
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = i + 1 < fmt.size() ? fmt[i + 1] : '\0';
    const bool directive = fmt[i] == '%' && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '%');
    if (!directive) {
      out += fmt[i];
      continue;
    }
    ++i;
    switch (c) {
      case 'Y': out += std::to_string(year); break;
      case 'y': out += pad(((year % 100) + 100) % 100, 2, '0'); break;
      case 'm': out += pad(month, 2, '0'); break;
      case 'd': out += pad(day, 2, '0'); break;
      case 'e': out += pad(day, 2, ' '); break;
      case 'b': case 'h': out += std::string(kMonths[month - 1], 3); break;
      case 'B': out += kMonths[month - 1]; break;
      case 'a': out += std::string(kDays[weekday], 3); break;
      case 'A': out += kDays[weekday]; break;
      case 'w': out += std::to_string(weekday); break;
      case 'j': out += pad(yday, 3, '0'); break;
      case 'H': out += pad(hour, 2, '0'); break;
      case 'I': out += pad(((hour + 11) % 12) + 1, 2, '0'); break;
      case 'p': out += hour < 12 ? "AM" : "PM"; break;
      case 'M': out += pad(minute, 2, '0'); break;
      case 'S': out += pad(second, 2, '0'); break;
      case 'F': out += absl::StrCat(year, "-", pad(month, 2, '0'), "-", pad(day, 2, '0')); break;
      case '%': out += '%'; break;
      default: out += '%'; out += c;
    }
  }
  return Value::String(std::move(out));
}

}  // namespace

const VariableMap& BuiltinGlobals() {
  static const VariableMap* globals = [] {
    auto* g = new VariableMap();
    (*g)["true"] = Value::Bool(true);
    (*g)["false"] = Value::Bool(false);
    (*g)["none"] = Value::Null();
    (*g)["True"] = Value::Bool(true);
    (*g)["False"] = Value::Bool(false);
    (*g)["None"] = Value::Null();
    (*g)["range"] = Value::Function("range", Range);
    (*g)["namespace"] = Value::Function("namespace", Namespace);
    (*g)["raise_exception"] = Value::Function("raise_exception", RaiseException);
    (*g)["strftime_now"] = Value::Function("strftime_now", StrftimeNow);
    return g;
  }();
  return *globals;
}

}  // namespace sllm::tokenizer::jinja
