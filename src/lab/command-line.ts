import { parse } from "shell-quote";

/**
 * A lab file's power command ("pdu outlet 7 on", "virsh start 'vm 1'") as the argument list it is
 * run with: quotes and backslashes work as in a shell, and nothing else does. No shell runs it,
 * so no word splitting of values, no globbing, no variables; pipes, redirections and `;` are
 * refused rather than passed on as words. Throws the reason, for the lab file's message.
 */
export function splitCommand(template: string): string[] {
  const unclosed = unclosedQuote(template);
  if (unclosed) throw new Error(`its ${unclosed} quote is never closed`);
  const variables: string[] = [];
  const words = parse(template, (name: string) => {
    variables.push(name);
    return undefined;
  });
  if (variables.length > 0) {
    throw new Error(
      `it uses $${variables[0] || "(…)"}: power commands run without a shell, so nothing is expanded; ` +
        `write the value, or run a script (or sh -c '…') that reads its environment`,
    );
  }
  const argv = words.map((word) => {
    if (typeof word === "string") return word;
    if ("comment" in word) throw new Error(`"#${word.comment}" would be a comment in a shell: quote it`);
    const what = word.op === "glob" ? `the pattern ${word.pattern}` : `"${word.op}"`;
    throw new Error(`${what} needs a shell, and power commands run without one: put it in a script, or write sh -c '…'`);
  });
  if (argv.length === 0 || argv[0] === "") throw new Error("it names no command");
  return argv;
}

/** Which quote a shell would still be waiting to see closed, if any (shell-quote does not say). */
function unclosedQuote(text: string): "single" | "double" | undefined {
  let open: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (open === "'") {
      if (c === "'") open = undefined;
    } else if (c === "\\") i++;
    else if (c === open) open = undefined;
    else if (!open && (c === "'" || c === '"')) open = c;
  }
  return open === "'" ? "single" : open === '"' ? "double" : undefined;
}
