import "@fontsource-variable/inter";
import "./index.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router/dom";
import { Provider } from "urql";
import { client } from "./api/client";
import { router } from "./router";
import { Toaster } from "./ui/Toaster";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Provider value={client}>
      <RouterProvider router={router} />
      <Toaster />
    </Provider>
  </StrictMode>,
);
