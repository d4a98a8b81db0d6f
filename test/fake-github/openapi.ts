// Test helper: GitHub's OpenAPI description (from @octokit/openapi) and a small structural validator.
// It understands what the response schemas of the operations we fake use: $ref, nullable,
// oneOf/anyOf/allOf, type, enum, required, properties, items. Formats and additionalProperties are ignored.

type Schema = Record<string, unknown>;
export type Spec = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } };

let cached: Promise<Spec> | undefined;

/** The api.github.com description (not the dereferenced one: $refs are resolved lazily here). */
export function loadSpec(): Promise<Spec> {
  cached ??= Bun.file(Bun.resolveSync("@octokit/openapi/generated/api.github.com.json", import.meta.dir)).json();
  return cached;
}

export function resolve(spec: Spec, schema: Schema): Schema {
  let s = schema;
  for (let i = 0; typeof s.$ref === "string" && i < 20; i++) {
    const ref = s.$ref as string;
    const prefix = "#/components/schemas/";
    if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref}`);
    const target = spec.components.schemas[ref.slice(prefix.length)];
    if (!target) throw new Error(`dangling $ref ${ref}`);
    s = target;
  }
  return s;
}

export function componentSchema(spec: Spec, name: string): Schema {
  const s = spec.components.schemas[name];
  if (!s) throw new Error(`no component schema ${name}`);
  return resolve(spec, s);
}

export function requiredKeys(spec: Spec, name: string): string[] {
  return (componentSchema(spec, name).required as string[] | undefined) ?? [];
}

/** Schema of the JSON response of `method path` with `status` (the templated path as in the spec). */
export function responseSchema(spec: Spec, path: string, method: string, status: number): Schema {
  const op = spec.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`no operation ${method} ${path}`);
  let response = op.responses?.[String(status)];
  if (!response) throw new Error(`${method} ${path} documents no ${status} response`);
  if (typeof response.$ref === "string") {
    response = (spec.components as any).responses[(response.$ref as string).split("/").pop()!];
  }
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${path} ${status} has no JSON schema`);
  return schema;
}

function typeOk(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "null":
      return value === null;
    default:
      return true;
  }
}

/** Returns a list of problems ("$.assets[0].uploader: missing required property login", ...); empty = valid. */
export function validate(spec: Spec, schemaIn: Schema, value: unknown, at = "$"): string[] {
  const schema = resolve(spec, schemaIn);
  if (value === null) {
    if (schema.nullable === true) return [];
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [];
    if (types.includes("null")) return [];
  }
  const problems: string[] = [];
  for (const key of ["oneOf", "anyOf"] as const) {
    const alternatives = schema[key] as Schema[] | undefined;
    if (!alternatives) continue;
    const results = alternatives.map((alt) => validate(spec, alt, value, at));
    if (!results.some((r) => r.length === 0)) {
      problems.push(`${at}: matches none of ${key} (${results.map((r) => r[0]).join(" | ")})`);
    }
  }
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) problems.push(...validate(spec, sub, value, at));

  const type = schema.type;
  if (typeof type === "string" && !typeOk(type, value)) {
    return [...problems, `${at}: expected ${type}${schema.nullable ? " or null" : ""}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  }
  if (Array.isArray(type) && !type.some((t) => typeOk(t, value))) {
    return [...problems, `${at}: expected ${type.join("|")}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  }
  if (Array.isArray(schema.enum) && !(schema.enum as unknown[]).includes(value)) {
    problems.push(`${at}: ${JSON.stringify(value)} not in enum ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in obj)) problems.push(`${at}: missing required property ${key}`);
    }
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, sub] of Object.entries(props)) {
      if (key in obj) problems.push(...validate(spec, sub, obj[key], `${at}.${key}`));
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...validate(spec, schema.items as Schema, item, `${at}[${i}]`)));
  }
  return problems;
}
