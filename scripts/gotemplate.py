"""A small Go text/template renderer for checking the Helm chart without helm.

It implements the part of Go templates and Sprig the chart uses (listed in FUNCS), with
Helm's conventions: numbers from values are float64 (printing a large one gives 1e+07, and
printf %d on one is an error, as in Helm), toYaml sorts keys and drops the final newline, a
missing map key prints as nothing, and a field of nil is an error. Anything it does not know
is an error, never a guess: a chart that starts using a new function fails the check loudly
until the function is added here.
"""
import decimal
import hashlib
import json
import math
import re

import yaml


class TemplateError(Exception):
    pass


class TemplateFail(TemplateError):
    """The chart's own `fail`: a refusal to render, which checks may expect."""


# ---------------------------------------------------------------------------- values

def helm_numbers(value):
    """Values as Helm sees them: every number a float (JSON's float64)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: helm_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [helm_numbers(v) for v in value]
    return value


def json_numbers(value):
    """What sigs.k8s.io/yaml writes: integral floats as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    if isinstance(value, dict):
        return {k: json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_numbers(v) for v in value]
    return value


def go_float(f):
    """Go's %v for a float64: strconv.FormatFloat(f, 'g', -1, 64), i.e. the shortest digits,
    in exponent form when the decimal exponent is < -4 or >= 6 (Helm prints 1e+06)."""
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    if f == 0:
        return "0"
    sign, digits, exponent = decimal.Decimal(repr(f)).as_tuple()
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    trailing = len("".join(map(str, decimal.Decimal(repr(f)).as_tuple()[1]))) - len(digits)
    dp = len(digits) + exponent + trailing  # value = 0.<digits> x 10^dp
    exp = dp - 1
    neg = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (neg, mant, "-" if exp < 0 else "+", abs(exp))
    if dp <= 0:
        return neg + "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return neg + digits + "0" * (dp - len(digits))
    return neg + digits[:dp] + "." + digits[dp:]


def to_str(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return v
    raise TemplateError("cannot print a %s (use toYaml): %r" % (type(v).__name__, v))


def truth(v):
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, list, dict)):
        return len(v) > 0
    return True


def to_int(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str):
        try:
            return int(float(v)) if v.strip() else 0
        except ValueError:
            return 0
    raise TemplateError("int of %r" % (v,))


def go_quote(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_printf(fmt, *args):
    out, i, n = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1] if i + 1 < len(fmt) else ""
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if n >= len(args):
            raise TemplateError("printf %r: missing argument" % fmt)
        a = args[n]
        n += 1
        if verb in ("s", "v"):
            out.append(to_str(a))
        elif verb == "d":
            if isinstance(a, bool) or not isinstance(a, int):
                raise TemplateError("printf %%d of %r (a %s; Helm numbers are float64: use int)" % (a, type(a).__name__))
            out.append(str(a))
        elif verb == "q":
            out.append(go_quote(to_str(a)))
        else:
            raise TemplateError("printf verb %%%s is not supported here" % verb)
    if n != len(args):
        raise TemplateError("printf %r: extra arguments" % fmt)
    return "".join(out)


def to_yaml(v):
    if v is None:
        return "null"
    text = yaml.safe_dump(json_numbers(v), default_flow_style=False, sort_keys=True, width=1 << 30)
    if text.endswith("...\n"):
        text = text[: -len("...\n")]
    return text[:-1] if text.endswith("\n") else text


def indent(n, s):
    pad = " " * to_int(n)
    return pad + s.replace("\n", "\n" + pad)


def is_empty(v):
    return not truth(v)


def compare(op):
    def f(a, b):
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
        if not numbers and type(a) is not type(b):
            raise TemplateError("incompatible types for comparison: %r and %r" % (a, b))
        return op(a, b)
    return f


def fail(msg):
    raise TemplateFail(to_str(msg))


def required(msg, v):
    if v is None or v == "":
        raise TemplateFail(to_str(msg))
    return v


def sprig_dict(*kv):
    if len(kv) % 2:
        raise TemplateError("dict needs key/value pairs")
    return {to_str(kv[i]): kv[i + 1] for i in range(0, len(kv), 2)}


FUNCS = {
    "toYaml": to_yaml,
    "nindent": lambda n, s: "\n" + indent(n, s),
    "indent": indent,
    "quote": lambda *a: " ".join(go_quote(to_str(x)) for x in a if x is not None),
    "printf": go_printf,
    "int": to_int,
    "atoi": lambda s: to_int(s) if re.fullmatch(r"[+-]?\d+", to_str(s)) else 0,
    "toString": to_str,
    "default": lambda d, *v: v[0] if v and truth(v[0]) else d,
    "empty": is_empty,
    "trunc": lambda n, s: s[: to_int(n)] if to_int(n) >= 0 else s[to_int(n):],
    "trimSuffix": lambda suf, s: s[: -len(suf)] if suf and s.endswith(suf) else s,
    "hasSuffix": lambda suf, s: s.endswith(suf),
    "hasPrefix": lambda pre, s: s.startswith(pre),
    "contains": lambda sub, s: sub in s,
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "sha256sum": lambda s: hashlib.sha256(s.encode()).hexdigest(),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "lt": compare(lambda a, b: a < b),
    "le": compare(lambda a, b: a <= b),
    "gt": compare(lambda a, b: a > b),
    "ge": compare(lambda a, b: a >= b),
    "not": lambda v: not truth(v),
    "add": lambda *a: sum(to_int(x) for x in a),
    "mul": lambda *a: math.prod(to_int(x) for x in a),
    "div": lambda a, b: int(to_int(a) / to_int(b)),
    "fail": fail,
    "required": required,
    "dict": sprig_dict,
    "list": lambda *a: list(a),
    "hasKey": lambda d, k: k in d,
}
# and/or are special: Go evaluates them lazily.
LAZY = {"and", "or"}


# ---------------------------------------------------------------------------- lexing

_ACTION_START = "{{"


def _scan_action(src, i, line):
    """Returns the index of the '}}' closing the action whose inner text starts at i."""
    while i < len(src):
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < len(src) and src[j] != c:
                if src[j] == "\n":
                    raise TemplateError("line %d: newline in a quoted string" % line)
                j += 2 if src[j] == "\\" else 1
            i = j + 1
        elif c == "`":
            j = src.find("`", i + 1)
            if j < 0:
                raise TemplateError("line %d: unterminated raw string" % line)
            i = j + 1
        elif src.startswith("}}", i):
            return i
        elif src.startswith("{{", i):
            raise TemplateError("line %d: '{{' inside an action" % line)
        else:
            i += 1
    raise TemplateError("line %d: unclosed action '{{'" % line)


def lex(src):
    """Text and action items, with {{- and -}} trimming applied."""
    items, i = [], 0
    while True:
        j = src.find(_ACTION_START, i)
        if j < 0:
            items.append(("text", src[i:], 0))
            break
        items.append(("text", src[i:j], 0))
        line = src.count("\n", 0, j) + 1
        k = j + 2
        ltrim = src.startswith("- ", k) or src.startswith("-\t", k) or src.startswith("-\n", k)
        if ltrim:
            k += 1
        body_start = k
        stripped = src[k:].lstrip()
        if stripped.startswith("/*"):
            c0 = src.index("/*", k)
            c1 = src.find("*/", c0 + 2)
            if c1 < 0:
                raise TemplateError("line %d: unclosed comment" % line)
            m = re.compile(r"\*/(?:\s+(-))?\s*\}\}").match(src, c1)
            if not m:
                raise TemplateError("line %d: a comment must end with */}} or */ -}}" % line)
            rtrim = bool(m.group(1))
            items.append(("comment", "", line, ltrim, rtrim))
            i = m.end()
            continue
        end = _scan_action(src, body_start, line)
        inner = src[body_start:end]
        rtrim = inner.endswith(" -") or inner.endswith("\t-") or inner.endswith("\n-")
        if rtrim:
            inner = inner[:-1]
        items.append(("action", inner.strip(), line, ltrim, rtrim))
        i = end + 2
    # Trimming: {{- removes the whitespace before, -}} the whitespace after.
    for n, it in enumerate(items):
        if it[0] in ("action", "comment"):
            if it[3] and n > 0 and items[n - 1][0] == "text":
                items[n - 1] = ("text", items[n - 1][1].rstrip(" \t\r\n"), 0)
            if it[4] and n + 1 < len(items) and items[n + 1][0] == "text":
                items[n + 1] = ("text", items[n + 1][1].lstrip(" \t\r\n"), 0)
    return [it for it in items if it[0] != "comment"]


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)')
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<comma>,)
  | (?P<num>[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<chain>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
""", re.X)


def tokenize(expr, line):
    toks, i = [], 0
    while i < len(expr):
        m = _TOKEN.match(expr, i)
        if not m:
            raise TemplateError("line %d: cannot parse %r" % (line, expr[i:]))
        kind = m.lastgroup
        if kind != "ws":
            toks.append((kind, m.group()))
        i = m.end()
    return toks


# ---------------------------------------------------------------------------- parsing

class Parser:
    def __init__(self, toks, line):
        self.toks, self.i, self.line = toks, 0, line

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def error(self, msg):
        raise TemplateError("line %d: %s" % (self.line, msg))

    def pipeline(self, allow_decl=True):
        decl = None
        if allow_decl and self.peek()[0] == "var":
            # $x := ... | $k, $v := ... | $x = ...
            save = self.i
            names = [self.take()[1]]
            if self.peek()[0] == "comma":
                self.take()
                if self.peek()[0] != "var":
                    self.error("expected a variable after ','")
                names.append(self.take()[1])
            if self.peek()[0] in ("decl", "assign"):
                decl = (self.take()[0], names)
            else:
                self.i = save
        cmds = [self.command()]
        while self.peek()[0] == "pipe":
            self.take()
            cmds.append(self.command())
        return ("pipeline", decl, cmds)

    def command(self):
        args = []
        while self.peek()[0] not in (None, "pipe", "rp"):
            args.append(self.operand())
        if not args:
            self.error("empty command")
        return args

    def operand(self):
        kind, text = self.take()
        if kind == "str":
            node = ("lit", json.loads(text))
        elif kind == "raw":
            node = ("lit", text[1:-1])
        elif kind == "num":
            node = ("lit", float(text) if re.search(r"[.eE]", text) else int(text))
        elif kind == "ident":
            if text in ("true", "false"):
                node = ("lit", text == "true")
            elif text == "nil":
                node = ("lit", None)
            else:
                node = ("func", text)
        elif kind == "field":
            node = ("field", [p for p in text.split(".") if p])
        elif kind == "var":
            name, *path = text.split(".")
            node = ("var", name, path)
        elif kind == "lp":
            inner = self.pipeline(allow_decl=False)
            if self.take()[0] != "rp":
                self.error("missing ')'")
            node = ("paren", inner)
        else:
            self.error("unexpected %r" % text)
        if self.peek()[0] == "chain":
            node = ("chain", node, [p for p in self.take()[1].split(".") if p])
        return node


def parse_pipeline(expr, line):
    p = Parser(tokenize(expr, line), line)
    node = p.pipeline()
    if p.peek()[0] is not None:
        p.error("unexpected %r" % (p.peek()[1],))
    return node


def parse(src, name="template"):
    """A tree of nodes, and the templates it defines."""
    items = lex(src)
    defines = {}
    pos = 0

    def block(stop):
        nonlocal pos
        nodes = []
        while pos < len(items):
            it = items[pos]
            pos += 1
            if it[0] == "text":
                if it[1]:
                    nodes.append(("text", it[1]))
                continue
            inner, line = it[1], it[2]
            word = inner.split(None, 1)[0] if inner else ""
            rest = inner[len(word):].strip()
            if word in stop:
                return nodes, word, rest, line
            if word == "end" or word == "else":
                raise TemplateError("%s:%d: unexpected {{%s}}" % (name, line, inner))
            if word in ("if", "with", "range"):
                branches, else_body = [], None
                cond = rest
                while True:
                    body, end_word, end_rest, end_line = block({"else", "end"})
                    branches.append((parse_pipeline(cond, line), body))
                    if end_word == "end":
                        break
                    if word == "if" and end_rest.startswith("if "):
                        cond = end_rest[3:]
                        continue
                    if end_rest:
                        raise TemplateError("%s:%d: unsupported {{else %s}}" % (name, end_line, end_rest))
                    else_body, end_word2, _, _ = block({"end"})
                    break
                nodes.append((word, branches, else_body, line))
            elif word == "define":
                dname = json.loads(rest)
                body, _, _, _ = block({"end"})
                if dname in defines:
                    raise TemplateError("%s:%d: template %r defined twice" % (name, line, dname))
                defines[dname] = body
            elif word == "template":
                m = re.match(r'("(?:[^"\\]|\\.)*")\s*(.*)$', rest)
                if not m:
                    raise TemplateError("%s:%d: bad template call" % (name, line))
                arg = parse_pipeline(m.group(2), line) if m.group(2) else None
                nodes.append(("template", json.loads(m.group(1)), arg, line))
            elif word in ("block", "break", "continue"):
                raise TemplateError("%s:%d: {{%s}} is not supported by this checker" % (name, line, word))
            else:
                nodes.append(("action", parse_pipeline(inner, line), line))
        if stop:
            raise TemplateError("%s: missing {{end}}" % name)
        return nodes, None, "", 0

    nodes, _, _, _ = block(set())
    return nodes, defines


# ---------------------------------------------------------------------------- evaluation

class Renderer:
    def __init__(self):
        self.defines = {}

    def load(self, src, name):
        nodes, defines = parse(src, name)
        for k, v in defines.items():
            if k in self.defines:
                raise TemplateError("%s: template %r is defined twice" % (name, k))
            self.defines[k] = v
        return nodes

    def render(self, nodes, dot, name="template"):
        out = []
        self._exec(nodes, dot, [{"$": dot}], out, name)
        return "".join(out)

    def include(self, tname, dot):
        if tname not in self.defines:
            raise TemplateError("no template named %r" % tname)
        out = []
        self._exec(self.defines[tname], dot, [{"$": dot}], out, tname)
        return "".join(out)

    def _exec(self, nodes, dot, scopes, out, name):
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                value = self._pipeline(node[1], dot, scopes, node[2])
                if node[1][1] is None:
                    out.append(to_str(value))
            elif kind == "template":
                arg = self._pipeline(node[2], dot, scopes, node[3]) if node[2] else None
                out.append(self.include(node[1], arg))
            elif kind in ("if", "with"):
                for cond, body in node[1]:
                    inner = [{}] + scopes
                    value = self._pipeline(cond, dot, inner, node[3])
                    if truth(value):
                        self._exec(body, value if kind == "with" else dot, inner, out, name)
                        break
                else:
                    if node[2] is not None:
                        self._exec(node[2], dot, [{}] + scopes, out, name)
            elif kind == "range":
                cond, body = node[1][0]
                _, decl, cmds = cond
                value = self._pipeline(("pipeline", None, cmds), dot, scopes, node[3])
                if isinstance(value, dict):
                    pairs = [(k, value[k]) for k in sorted(value)]
                elif isinstance(value, list):
                    pairs = list(enumerate(value))
                elif value is None:
                    pairs = []
                else:
                    raise TemplateError("line %d: range over %r" % (node[3], value))
                if not pairs and node[2] is not None:
                    self._exec(node[2], dot, [{}] + scopes, out, name)
                for k, v in pairs:
                    inner = {}
                    if decl:
                        names = decl[1]
                        if len(names) == 1:
                            inner[names[0]] = v
                        else:
                            inner[names[0]], inner[names[1]] = k, v
                    self._exec(body, v, [inner] + scopes, out, name)
            else:
                raise TemplateError("unknown node %r" % (kind,))

    def _lookup_var(self, name, scopes, line):
        for s in scopes:
            if name in s:
                return s[name]
        raise TemplateError("line %d: undefined variable %s" % (line, name))

    def _fields(self, value, path, line, what):
        for p in path:
            if value is None:
                raise TemplateError("line %d: nil pointer evaluating %s.%s" % (line, what, p))
            if not isinstance(value, dict):
                raise TemplateError("line %d: can't evaluate field %s in %r" % (line, p, type(value).__name__))
            value = value.get(p)
            what += "." + p
        return value

    def _pipeline(self, node, dot, scopes, line):
        _, decl, cmds = node
        value, have = None, False
        for cmd in cmds:
            value = self._command(cmd, dot, scopes, line, value if have else _NOARG)
            have = True
        if decl:
            kind, names = decl
            if kind == "decl":
                scopes[0][names[-1]] = value
            else:
                for s in scopes:
                    if names[-1] in s:
                        s[names[-1]] = value
                        break
                else:
                    raise TemplateError("line %d: assignment to undeclared %s" % (line, names[-1]))
        return value

    def _operand(self, node, dot, scopes, line):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "field":
            return self._fields(dot, node[1], line, "")
        if kind == "var":
            return self._fields(self._lookup_var(node[1], scopes, line), node[2], line, node[1])
        if kind == "paren":
            return self._pipeline(node[1], dot, scopes, line)
        if kind == "chain":
            return self._fields(self._operand(node[1], dot, scopes, line), node[2], line, "(...)")
        if kind == "func":
            return self._call(node[1], [], dot, scopes, line, _NOARG)
        raise TemplateError("line %d: bad operand" % line)

    def _call(self, fname, arg_nodes, dot, scopes, line, piped):
        if fname in LAZY:
            values = [lambda n=n: self._operand(n, dot, scopes, line) for n in arg_nodes]
            if piped is not _NOARG:
                values.append(lambda: piped)
            result = None
            for get in values:
                result = get()
                if (fname == "and") != truth(result):
                    return result
            return result
        args = [self._operand(n, dot, scopes, line) for n in arg_nodes]
        if piped is not _NOARG:
            args.append(piped)
        if fname == "include":
            if len(args) != 2:
                raise TemplateError("line %d: include needs a name and a context" % line)
            return self.include(args[0], args[1])
        if fname not in FUNCS:
            raise TemplateError("line %d: function %r is not known to this checker" % (line, fname))
        try:
            return FUNCS[fname](*args)
        except TypeError as e:
            raise TemplateError("line %d: %s: %s" % (line, fname, e))

    def _command(self, cmd, dot, scopes, line, piped):
        first = cmd[0]
        if first[0] == "func":
            return self._call(first[1], cmd[1:], dot, scopes, line, piped)
        if len(cmd) > 1 or piped is not _NOARG:
            raise TemplateError("line %d: can't give arguments to a non-function" % line)
        return self._operand(first, dot, scopes, line)


_NOARG = object()


def value_references(src):
    """Every .Values.a.b path a template reads (through . or $), comments left out."""
    src = re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", src, flags=re.S)
    return sorted(set(re.findall(r"(?<![A-Za-z0-9_])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", src)))
