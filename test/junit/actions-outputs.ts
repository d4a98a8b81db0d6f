/**
 * Reads `$GITHUB_OUTPUT` as the Actions runner does (its file command for outputs): a line
 * `name=value`, or `name<<DELIMITER` followed by the value's lines up to a line that is exactly
 * the delimiter. Whichever of `=` and `<<` comes first in a line decides its form. Anything
 * else is an error, as the runner fails the step.
 */
export function readActionsOutputs(text: string): Record<string, string> {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const outputs: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      outputs[line.slice(0, equals)] = line.slice(equals + 1);
      continue;
    }
    if (heredoc <= 0) throw new Error(`invalid line ${i + 1} in the output file: ${line}`);
    const name = line.slice(0, heredoc);
    const delimiter = line.slice(heredoc + 2);
    if (delimiter === "") throw new Error(`invalid delimiter on line ${i + 1}`);
    const value: string[] = [];
    for (i++; ; i++) {
      if (i >= lines.length) throw new Error(`no closing delimiter ${delimiter} for ${name}`);
      if (lines[i]!.replace(/\r$/, "") === delimiter) break;
      value.push(lines[i]!);
    }
    outputs[name] = value.join("\n");
  }
  return outputs;
}
