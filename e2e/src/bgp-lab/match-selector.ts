/**
 * Calico's label-selector language, as documented for BGPPeer `nodeSelector`/`peerSelector`
 * (https://docs.tigera.io/calico/latest/reference/resources/bgppeer#selectors): `all()`,
 * `has(k)`, `k == 'v'`, `k != 'v'`, `k in {'a','b'}`, `k not in {…}`, `k contains 's'`,
 * `k starts with 's'`, `k ends with 's'`, `!`, `&&`, `||` and parentheses; strings in single or
 * double quotes. Written for the BGP lab from the documentation — deliberately not the planner's
 * parser, so that the lab judges the planner instead of agreeing with it.
 */

/** A compiled selector: whether a node with these labels matches. */
export type Selector = (labels: Readonly<Record<string, string>>) => boolean;

/** Compiles `text`; throws an Error saying where it is malformed. */
export function compileSelector(text: string): Selector {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const take = (expected?: string): string => {
    const token = tokens[at];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(
        `selector ${JSON.stringify(text)}: expected ${expected ?? "more"} at token ${at + 1}, got ${token ?? "the end"}`,
      );
    }
    at++;
    return token;
  };
  const literal = (): string => {
    const token = take();
    if (!token.startsWith("\u0000"))
      throw new Error(`selector ${JSON.stringify(text)}: expected a string, got ${token}`);
    return token.slice(1);
  };

  const orExpr = (): Selector => {
    let left = andExpr();
    while (peek() === "||") {
      take();
      const a = left;
      const b = andExpr();
      left = (labels) => a(labels) || b(labels);
    }
    return left;
  };
  const andExpr = (): Selector => {
    let left = unary();
    while (peek() === "&&") {
      take();
      const a = left;
      const b = unary();
      left = (labels) => a(labels) && b(labels);
    }
    return left;
  };
  const unary = (): Selector => {
    if (peek() === "!") {
      take();
      const inner = unary();
      return (labels) => !inner(labels);
    }
    if (peek() === "(") {
      take();
      const inner = orExpr();
      take(")");
      return inner;
    }
    return term();
  };
  const term = (): Selector => {
    const word = take();
    if (word === "all") {
      take("(");
      take(")");
      return () => true;
    }
    if (word === "has") {
      take("(");
      const key = take();
      take(")");
      return (labels) => labels[key] !== undefined;
    }
    const key = word;
    const op = take();
    switch (op) {
      case "==": {
        const value = literal();
        return (labels) => labels[key] === value;
      }
      case "!=": {
        const value = literal();
        return (labels) => labels[key] !== value;
      }
      case "contains": {
        const value = literal();
        return (labels) => labels[key]?.includes(value) === true;
      }
      case "starts": {
        take("with");
        const value = literal();
        return (labels) => labels[key]?.startsWith(value) === true;
      }
      case "ends": {
        take("with");
        const value = literal();
        return (labels) => labels[key]?.endsWith(value) === true;
      }
      case "in":
      case "not": {
        if (op === "not") take("in");
        take("{");
        const values = new Set<string>();
        while (peek() !== "}") {
          values.add(literal());
          if (peek() === ",") take(",");
        }
        take("}");
        return op === "in"
          ? (labels) => values.has(labels[key] ?? "\u0001")
          : (labels) => !values.has(labels[key] ?? "\u0001");
      }
      default:
        throw new Error(`selector ${JSON.stringify(text)}: unknown operator ${op}`);
    }
  };

  const selector = orExpr();
  if (at !== tokens.length)
    throw new Error(`selector ${JSON.stringify(text)}: unexpected ${tokens[at] ?? ""}`);
  return selector;
}

/** Words, operators and strings (strings carry a leading NUL so they never read as a word). */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`selector ${JSON.stringify(text)}: unterminated string`);
      tokens.push(`\u0000${text.slice(i + 1, end)}`);
      i = end + 1;
    } else if (["==", "!=", "&&", "||"].includes(text.slice(i, i + 2))) {
      tokens.push(text.slice(i, i + 2));
      i += 2;
    } else if ("(){},!".includes(c)) {
      tokens.push(c);
      i++;
    } else {
      const match = /^[A-Za-z0-9_./-]+/.exec(text.slice(i));
      if (match === null) throw new Error(`selector ${JSON.stringify(text)}: unexpected ${c}`);
      tokens.push(match[0]);
      i += match[0].length;
    }
  }
  return tokens;
}
