import type {
  ButtonHTMLAttributes,
  InputHTMLAttributes,
  ReactNode,
  SelectHTMLAttributes,
  ThHTMLAttributes,
} from "react";

const BUTTON_LOOKS = {
  primary: "bg-slate-900 text-white",
  outline: "border border-slate-400",
  confirm: "bg-emerald-700 text-white",
  danger: "bg-red-700 text-white",
};

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  look?: keyof typeof BUTTON_LOOKS;
  small?: boolean;
};

/** Every button of the dashboard: one look per role, so pages differ in what they do, not in how they are drawn. */
export function Button({ look = "outline", small = false, className = "", ...props }: ButtonProps) {
  const size = small ? "px-2 py-1 text-xs" : "px-3 py-1.5 text-sm";
  return (
    <button
      type="button"
      {...props}
      className={`rounded disabled:opacity-50 ${size} ${BUTTON_LOOKS[look]} ${className}`}
    />
  );
}

/** A column heading; the table's rows get their own `<th scope="row">` where one names the row. */
export function Th({ children, ...props }: ThHTMLAttributes<HTMLTableCellElement>) {
  return (
    <th scope="col" className="px-3 py-2" {...props}>
      {children}
    </th>
  );
}

/** Plain column headings from their labels (`false` leaves one out, e.g. staff-only columns). */
export function headings(labels: (string | false)[]) {
  return labels
    .filter((label): label is string => Boolean(label))
    .map((label) => <Th key={label}>{label}</Th>);
}

/** The dashboard's table frame: scrolls sideways on a narrow screen; the caption names it for screen readers. */
export function DataTable({
  caption,
  columns,
  children,
  className = "",
}: {
  caption: string;
  columns: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div className={`overflow-x-auto rounded border border-slate-200 bg-white ${className}`}>
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-slate-100">
          <tr>{columns}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

const FIELD = "mt-1 w-full rounded border border-slate-400 px-2 py-1";

/** A labelled text, number or date input of a form. */
export function InputField({ label, ...props }: InputHTMLAttributes<HTMLInputElement> & { label: string }) {
  return (
    <label className="text-sm">
      {label}
      <input type="text" {...props} className={FIELD} />
    </label>
  );
}

/** A labelled choice among `options`; the empty option reads "any". */
export function SelectField({
  label,
  options,
  ...props
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; options: string[] }) {
  return (
    <label className="text-sm">
      {label}
      <select {...props} className={FIELD}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option || "any"}
          </option>
        ))}
      </select>
    </label>
  );
}
