import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The folders of src/ are layers: their imports must form an acyclic graph, and core/ (the
// pure reducer and its types) may import nothing outside itself, not even a package.

const src = resolve(import.meta.dir, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, statically or with `import()`. */
export function specifiers(code: string): string[] {
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gms, /^\s*import\s*["']([^"']+)["']/gm, /\bimport\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]!);
  return found;
}

/** The layer a file belongs to: its first folder under src/, or the file itself at the top. */
const layerOf = (file: string) => relative(src, file).split("/")[0]!.replace(/\.(ts|js)$/, "");

type Graph = Map<string, Map<string, string>>; // layer → imported layer → one example "file → specifier"

function layerGraph(): { graph: Graph; outside: string[] } {
  const graph: Graph = new Map();
  const outside: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = layerOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      const where = `${relative(src, file)} imports "${spec}"`;
      if (!spec.startsWith(".")) {
        if (from === "core") outside.push(where);
        continue;
      }
      const to = layerOf(resolve(dirname(file), spec));
      if (from === "core" && to !== "core") outside.push(where);
      // Files beside src/ (package.json for the version) are leaves, never part of a loop.
      if (to.startsWith("..")) continue;
      if (to !== from && !edges.has(to)) edges.set(to, where);
    }
  }
  return { graph, outside };
}

/** Each cycle of layers, as the path that closes it (Tarjan's strongly connected components). */
function cycles(graph: Graph): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

const explain = (graph: Graph, component: string[]) =>
  component.flatMap((a) => component.filter((b) => graph.get(a)?.has(b)).map((b) => `${a} → ${b} (${graph.get(a)!.get(b)})`)).join("\n  ");

describe("layers of src/", () => {
  const { graph, outside } = layerGraph();

  test("folder imports form no loop", () => {
    const loops = cycles(graph).map((c) => explain(graph, c));
    expect(loops).toEqual([]);
  });

  test("core/ imports nothing outside itself", () => {
    expect(outside).toEqual([]);
  });

  test("the checks see imports (a loop and an outside import are caught)", () => {
    const sample = `import { a } from "../ui/x.ts";\nimport type {\n  B,\n} from "./b.ts";\nexport { c } from "../c.ts";\nconst d = await import("./d.ts");\nimport "./side.ts";`;
    expect(specifiers(sample).sort()).toEqual(["../c.ts", "../ui/x.ts", "./b.ts", "./d.ts", "./side.ts"].sort());
    const loop: Graph = new Map([
      ["a", new Map([["b", "a/x imports b"]])],
      ["b", new Map([["c", "b/x imports c"]])],
      ["c", new Map([["a", "c/x imports a"]])],
      ["d", new Map([["a", "d/x imports a"]])],
    ]);
    expect(cycles(loop).map((c) => [...c].sort())).toEqual([["a", "b", "c"]]);
  });
});
