"""LLM adapters behind `application.ports.LLM`: `openai.OpenAILLM` (and OpenAI-compatible
servers), `gemini.GeminiLLM`, `ollama.OllamaLLM` (and `ollama.OllamaModels`: a server's
models), the offline `extractive.ExtractiveLLM`, and `factory.ProviderLLMFactory` that picks
one by provider name. Import the modules themselves: nothing is re-exported here, so that
importing one adapter does not import every SDK."""
