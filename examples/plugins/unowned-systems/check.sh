#!/bin/sh
# unowned-systems: an out-of-process TwoSpeed check written as a shell script with jq.
# Flags systems that no manager owns: nobody is accountable for how fast they change.
# Speaks JSON-RPC 2.0, one message per line, on stdin and stdout.
while IFS= read -r line; do
  printf '%s\n' "$line" | jq -c '
    if .method == "check.run" then
      (.params.portfolio.systems // []) as $systems
      | [$systems[] | select(.owner == null)] as $unowned
      | {jsonrpc: "2.0", id: .id, result: {findings: (
          if ($unowned | length) == 0 then [] else [{
            pitfall: "unowned-systems", name: "Systems without an owner", severity: "low",
            subjects: [$unowned[] | {kind: "system", id: .id, name: .name}],
            evidence: [$unowned[] | "\(.name) (\(.layer)) has no owning manager"],
            recommendation: "Give every system an owning manager who answers for how fast and how safely it changes.",
            criteria: ["ownership.products"]
          }] end)}}
    elif .method == "plugin.ping" then {jsonrpc: "2.0", id: .id, result: (.params // {})}
    else {jsonrpc: "2.0", id: .id, error: {code: -32601, message: "Method not found"}}
    end' || printf '%s\n' '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}'
done
