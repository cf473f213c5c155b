/** Inline icons: decorative (aria-hidden), the text next to them carries the meaning. */
const base = { width: 24, height: 24, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 2.4, strokeLinecap: 'round' as const, strokeLinejoin: 'round' as const, 'aria-hidden': true, focusable: false };

export const CheckIcon = ({ size = 24 }: { size?: number }) => (
  <svg {...base} width={size} height={size} className="icon">
    <path d="M4.5 12.5l5 5 10-11" />
  </svg>
);

export const CrossIcon = ({ size = 24 }: { size?: number }) => (
  <svg {...base} width={size} height={size} className="icon">
    <path d="M6 6l12 12M18 6L6 18" />
  </svg>
);

export const AlertIcon = ({ size = 24 }: { size?: number }) => (
  <svg {...base} width={size} height={size} className="icon">
    <path d="M12 5.5v8.5M12 18.5v.01" />
  </svg>
);

export const SpeakIcon = () => (
  <svg {...base} className="icon" strokeWidth={2}>
    <path d="M4 5h16v10H9l-5 4z" />
    <path d="M8 9h8M8 12h5" />
  </svg>
);

export const Logo = () => (
  <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false" className="logo">
    <rect width="32" height="32" rx="8" fill="#1d4ed8" />
    <path d="M10 8.5c1.2-.6 2.3-.3 2.9.8l1.4 2.6c.5 1 .3 2-.5 2.7l-1.1.9c.8 1.9 2.2 3.4 4.2 4.4l.9-1.1c.7-.8 1.7-1 2.6-.5l2.6 1.4c1.1.6 1.4 1.7.8 2.9-1.1 2.1-3.3 3-5.4 2.1-4.7-2-8.1-5.6-9.9-10.2-.8-2 .2-4.3 1.5-5z" fill="#fff" />
  </svg>
);
