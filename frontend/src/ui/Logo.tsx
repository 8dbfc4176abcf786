import { Link } from "react-router";

export function Logo({ compact }: { compact?: boolean }) {
  return (
    <Link to="/" className="flex items-center gap-2 rounded-lg" aria-label="GenAI Stack — My Stacks">
      <span className="flex size-8 items-center justify-center rounded-[10px] bg-gradient-to-br from-brand-500 to-violet-600 shadow-sm shadow-brand-600/30">
        <svg viewBox="0 0 24 24" className="size-4.5 text-white" fill="none" aria-hidden>
          <path d="M5 8h14M5 12h9M5 16h14" stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" />
          <circle cx="18" cy="12" r="1.8" fill="currentColor" />
        </svg>
      </span>
      {!compact && <span className="text-[15px] font-semibold tracking-tight text-slate-900">GenAI Stack</span>}
    </Link>
  );
}
