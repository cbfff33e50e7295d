import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class ErrorDetailDto {
  @ApiPropertyOptional({ example: 'messageId' }) field?: string;
  @ApiProperty({ example: 'messageId must be a UUID' }) message: string;
}

/** The uniform error body of every non-2xx answer (contract §0). */
export class ErrorBodyDto {
  @ApiProperty({ example: 404 }) statusCode: number;
  @ApiProperty({ example: 'MESSAGE_NOT_FOUND' }) code: string;
  @ApiProperty({ example: 'No message with this id exists for this agent.' }) message: string;
  @ApiPropertyOptional({ type: ErrorDetailDto, isArray: true }) details?: ErrorDetailDto[];
}
