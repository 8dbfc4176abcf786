import { AlertTriangle, RotateCw } from "lucide-react";
import type { ReactNode } from "react";
import { Button } from "./Button";
import { cx } from "./cx";

export function ErrorState({ title, detail, onRetry, className }: { title: string; detail?: string; onRetry?: () => void; className?: string }) {
  return (
    <div role="alert" className={cx("mx-auto flex max-w-md flex-col items-center px-6 py-16 text-center", className)}>
      <div className="mb-4 flex size-12 items-center justify-center rounded-2xl bg-red-50 text-red-600 ring-1 ring-red-100">
        <AlertTriangle className="size-6" aria-hidden />
      </div>
      <h2 className="text-base font-semibold text-slate-900">{title}</h2>
      {detail && <p className="mt-1.5 text-sm text-slate-500">{detail}</p>}
      {onRetry && (
        <Button className="mt-5" icon={<RotateCw className="size-4" />} onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function EmptyState({ icon, title, detail, action }: { icon: ReactNode; title: string; detail?: ReactNode; action?: ReactNode }) {
  return (
    <div className="mx-auto flex max-w-md flex-col items-center px-6 py-16 text-center">
      <div className="mb-5 flex size-16 items-center justify-center rounded-2xl bg-gradient-to-br from-brand-50 to-white text-brand-600 shadow-sm ring-1 ring-brand-100">
        {icon}
      </div>
      <h2 className="text-lg font-semibold text-slate-900">{title}</h2>
      {detail && <p className="mt-2 text-sm leading-relaxed text-slate-500">{detail}</p>}
      {action && <div className="mt-6">{action}</div>}
    </div>
  );
}
