// The document shell: system fonts (nothing downloaded at build or run time) and the client-side data providers.
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./providers.tsx";
import "./globals.css";

export const metadata: Metadata = {
  title: "Trellis",
  description: "Service mesh dashboard: live service graph, RED metrics and sidecar status.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
