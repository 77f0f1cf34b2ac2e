export { health as healthProcedure } from "../procedures/health/health";
