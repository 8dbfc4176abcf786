import { Gauge } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { describeError } from "../../api/errors";
import { Badge } from "../../ui/Badge";
import { Button } from "../../ui/Button";
import { FieldShell, inputClass } from "../../ui/Field";
import { SetWorkspaceBudgetMutation, WorkspaceBudgetQuery } from "./operations";

const tokens = new Intl.NumberFormat("en-US");
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 2 });

/** "" for no limit; otherwise the number entered, or undefined when it is not one. */
export function parseLimit(text: string, integer: boolean): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) return undefined;
  return value;
}

export function monthName(month: string): string {
  return new Date(`${month}T00:00:00Z`).toLocaleDateString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}

/** A workspace's monthly budget for questions, and what this month has used (admins set it). */
export function BudgetPanel({ workspaceId }: { workspaceId: string }) {
  const [{ data, error }, refetch] = useQuery({ query: WorkspaceBudgetQuery, variables: { workspaceId }, requestPolicy: "cache-and-network" });
  const [{ fetching }, save] = useMutation(SetWorkspaceBudgetMutation);
  const [tokenText, setTokenText] = useState<string | null>(null);
  const [costText, setCostText] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const budget = data?.workspaceBudget;

  if (error && !budget) return <p role="alert" className="text-sm text-red-600">{describeError(error, "load the budget")}</p>;
  if (!budget) return null;

  const tokenValue = tokenText ?? (budget.monthlyTokens === null ? "" : String(budget.monthlyTokens));
  const costValue = costText ?? (budget.monthlyCostUsd === null ? "" : String(budget.monthlyCostUsd));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const monthlyTokens = parseLimit(tokenValue, true);
    const monthlyCostUsd = parseLimit(costValue, false);
    if (monthlyTokens === undefined || monthlyCostUsd === undefined) {
      setProblem("Enter a number of 0 or more, or leave the field empty for no limit.");
      return;
    }
    const result = await save({ workspaceId, monthlyTokens, monthlyCostUsd });
    if (result.error) {
      setProblem(describeError(result.error, "save the budget"));
      return;
    }
    setProblem(null);
    setTokenText(null);
    setCostText(null);
    refetch({ requestPolicy: "network-only" });
  }

  return (
    <section aria-label="Monthly budget" className="space-y-4 rounded-2xl border border-slate-200 bg-white p-5">
      <div className="flex items-center gap-2">
        <Gauge className="size-4 text-slate-500" aria-hidden />
        <h2 className="text-base font-semibold text-slate-900">Monthly budget for questions</h2>
        {budget.exceeded && <Badge>Used up</Badge>}
      </div>
      <p data-testid="budget-use" className="text-sm text-slate-600">
        {monthName(String(budget.month))} so far: {tokens.format(budget.usedTokens)} tokens
        {budget.monthlyTokens !== null && ` of ${tokens.format(budget.monthlyTokens)}`}, {dollars.format(budget.usedCostUsd)}
        {budget.monthlyCostUsd !== null && ` of ${dollars.format(budget.monthlyCostUsd)}`} (estimated). Past the budget, questions are refused until
        the month ends (UTC).
      </p>
      <form onSubmit={submit} aria-label="Budget" className="flex flex-wrap items-end gap-3">
        <FieldShell id="budget-tokens" label="Tokens a month" hint="Empty: no limit.">
          <input id="budget-tokens" inputMode="numeric" className={inputClass} value={tokenValue} onChange={(e) => setTokenText(e.target.value)} />
        </FieldShell>
        <FieldShell id="budget-cost" label="Cost a month (USD)" hint="Empty: no limit.">
          <input id="budget-cost" inputMode="decimal" className={inputClass} value={costValue} onChange={(e) => setCostText(e.target.value)} />
        </FieldShell>
        <Button type="submit" variant="secondary" loading={fetching}>
          Save budget
        </Button>
      </form>
      {problem && (
        <p role="alert" className="text-sm text-red-600">
          {problem}
        </p>
      )}
    </section>
  );
}
