import "@fontsource-variable/inter";
import "./index.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router/dom";
import { Provider } from "urql";
import { client } from "./api/client";
import { SignInGate } from "./features/auth/SignInGate";
import { router } from "./router";
import { Toaster } from "./ui/Toaster";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Provider value={client}>
      <SignInGate>
        <RouterProvider router={router} />
      </SignInGate>
      <Toaster />
    </Provider>
  </StrictMode>,
);
