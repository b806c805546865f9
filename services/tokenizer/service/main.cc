// sllm-tokenizer-server: serves the tokenizers of one or more model folders over gRPC.
//   sllm-tokenizer-server --models stories260K=models/stories260K --port 50051
//   sllm-tokenizer-server --models mistral=DIR:template=chat.jinja   (a chat template file)
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "services/common/flags.h"
#include "services/common/server.h"
#include "services/hub/model_dir.h"
#include "services/tokenizer/service/tokenizer_core.h"
#include "services/tokenizer/service/tokenizer_service.h"

DEFINE_string(models, "",
              "Models to serve: comma-separated NAME=DIR (or DIR, named after it); an entry may "
              "end in :template=FILE to render chats with that Jinja file instead of the "
              "folder's tokenizer_config.json chat_template (e.g. for models without one)");

int main(int argc, char** argv) {
  sllm::ConfigureServerProcess();
  sllm::SetServerFlagDefaults(/*port=*/50051, /*metrics_port=*/9091);
  gflags::SetUsageMessage("sllm-tokenizer-server --models NAME=DIR[:template=FILE][,NAME=DIR...]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;

  auto specs = sllm::tokenizer::ParseModelSpecs(FLAGS_models);
  if (!specs.ok()) {
    LOG(ERROR) << specs.status().message();
    return 2;
  }
  // Hub ids (org/name[@revision]) become their snapshot folders in the hub cache.
  for (auto& spec : *specs) {
    auto dir = sllm::hub::ResolveModelDir(spec.dir);
    if (!dir.ok()) {
      LOG(ERROR) << dir.status().message();
      return 1;
    }
    spec.dir = *dir;
  }
  auto core = sllm::tokenizer::TokenizerCore::Load(*specs);
  if (!core.ok()) {
    LOG(ERROR) << "loading models failed: " << core.status().message();
    return 1;
  }
  sllm::ServiceRunner runner(sllm::ServerOptionsFromFlags());
  sllm::tokenizer::TokenizerServiceImpl service(**core, runner.registry());
  runner.AddService(&service);
  runner.OnDrain([&service] { service.Drain(); });
  if (auto st = runner.Start(); !st.ok()) {
    LOG(ERROR) << st.message();
    return 1;
  }
  runner.SetServing("", true);
  runner.SetServing(sllm::v1::TokenizerService::service_full_name(), true);
  LOG(INFO) << "tokenizer service on " << runner.local_target() << ", metrics on port "
            << runner.metrics_port();
  runner.Wait();
  return 0;
}
